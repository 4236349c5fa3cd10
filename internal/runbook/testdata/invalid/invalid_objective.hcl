# want: Invalid duration at 5:11
runbook {
  objectives {
    rto = "30m"
    rpo = "1 hour"
  }
}
