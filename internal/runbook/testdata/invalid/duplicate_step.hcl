# want: Duplicate step at 4:1
# detail: already declared at
step "wait" "a" {}
step "wait" "a" {}
