# want: Duplicate output at 3:1
output "o" { value = 1 }
output "o" { value = 2 }
