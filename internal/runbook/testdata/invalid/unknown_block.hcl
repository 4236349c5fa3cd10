# want: Unsupported block type at 3:1
# detail: Blocks of type "stepp" are not expected here
stepp "wait" "a" {
}
