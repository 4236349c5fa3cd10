runbook {
  description = "A long wait, to leave a run in progress"
}

step "wait" "long" {
  duration = "1h"
}
