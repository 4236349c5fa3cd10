# want: Duplicate gate at 4:1
# detail: gate.g was already declared
gate "g" {}
gate "g" {}
