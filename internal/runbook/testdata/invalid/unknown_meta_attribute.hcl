# want: Unsupported argument at 4:3
# detail: "prompts"
gate "g" {
  prompts = "go?"
}
