# want: Duplicate runbook block at 3:1
runbook {}
runbook {}
