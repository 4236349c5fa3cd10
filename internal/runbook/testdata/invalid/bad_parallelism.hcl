# want: Invalid parallelism at 3:17
runbook {
  parallelism = 0
}
