package estate

import "testing"

func FuzzParse(f *testing.F) {
	f.Add([]byte("cloudwatch_protocol = \"query\"\nobjectives \"default\" {\n  rpo = \"1h\"\n  rto = \"15m\"\n}\n"))
	f.Add([]byte("volumes {\n  tag = \"Name=d\"\n  role = \"dataset\"\n}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		e, err := Parse(src, "estate.hcl")
		if err == nil && e == nil {
			t.Fatal("nil estate without error")
		}
	})
}
