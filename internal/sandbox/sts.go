package sandbox

import "net/http"

const stsNS = "https://sts.amazonaws.com/doc/2011-06-15/"

// stsService answers GetCallerIdentity.
type stsService struct{ opts *Options }

func (s *stsService) identify(r *http.Request) (string, bool, error) { return identifyQuery(r) }

func (s *stsService) writeError(w http.ResponseWriter, r *http.Request, c *call, e *apiError) {
	writeQueryError(w, stsNS, c, e)
}

func (s *stsService) faultErrors() faultErrors { return queryFaultErrors() }

func (s *stsService) serve(w http.ResponseWriter, r *http.Request, c *call) {
	serveQuery(w, r, c, stsNS, map[string]queryHandler{
		"GetCallerIdentity": func(d *xmlDoc, f form, c *call) *apiError {
			sc, _ := parseScope(r)
			user := "sandbox"
			if sc.AccessKey != "" && sc.AccessKey != s.opts.AccessKeyID {
				// Any key is accepted without strict auth; each is its own user.
				user = "sandbox-" + sc.AccessKey
			}
			d.leaf("UserId", "AIDASANDBOX"+shortHash(sc.AccessKey)).
				leaf("Account", accountID).
				leaf("Arn", "arn:aws:iam::"+accountID+":user/"+user)
			return nil
		},
	}, nil)
}

func shortHash(s string) string {
	const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	h := hashString(s)
	b := make([]byte, 12)
	for i := range b {
		b[i] = digits[h&31]
		h >>= 5
	}
	return string(b)
}
