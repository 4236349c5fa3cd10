# want: Invalid step name at 2:13
step "wait" "1st" {}
