package steps

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/drconsole/drconsole/internal/awsx"
	"github.com/drconsole/drconsole/internal/runbook"
)

// Deps carries what step types need from outside: HTTP and AWS
// clients. Zero values select sensible defaults.
type Deps struct {
	// HTTPClient is used by http_check; nil means a client with no overall
	// timeout (each probe gets its own deadline).
	HTTPClient *http.Client
	// AWS builds the AWS step types' clients (read-only ones in dry-run).
	// Nil still registers the AWS types, so runbooks using them validate,
	// but their Plan and Apply fail with NoAWSError's message.
	AWS awsx.ClientSource
	// NoAWSError says why AWS is nil, e.g. the target could not be
	// configured.
	NoAWSError error
}

// withDefaults fills in what the caller left out.
func (d Deps) withDefaults() Deps {
	if d.HTTPClient == nil {
		d.HTTPClient = &http.Client{}
	}
	if d.AWS == nil {
		err := d.NoAWSError
		if err == nil {
			err = errors.New("no AWS target is configured")
		}
		d.AWS = awsx.Unavailable(err)
	}
	return d
}

// stepType is one line of the registry.
type stepType struct {
	name string // as written in `step "TYPE" "NAME"`
	// aws says the type calls AWS: a run needs a target, and the type
	// must answer what a drill measures and what the API log shows (see
	// typeProblems).
	aws bool
	new func(Deps) runbook.StepType // given Deps with defaults filled in
}

// stepTypes lists every step type this package provides. A new type is
// its own file(s) and one line here; the registry test (typeProblems)
// says what it still lacks.
func stepTypes() []stepType {
	return []stepType{
		{name: "wait", new: func(Deps) runbook.StepType { return Wait{} }},
		{name: "exec", new: func(Deps) runbook.StepType { return Exec{} }},
		{name: "http_check", new: func(d Deps) runbook.StepType { return HTTPCheck{Client: d.HTTPClient} }},
		{name: "ebs_snapshot", aws: true, new: func(d Deps) runbook.StepType { return &EBSSnapshot{clients: d.AWS} }},
		{name: "asg_scale", aws: true, new: func(d Deps) runbook.StepType { return &ASGScale{clients: d.AWS} }},
		{name: "alarms_check", aws: true, new: func(d Deps) runbook.StepType { return &AlarmsCheck{clients: d.AWS} }},
		{name: "replication_check", aws: true, new: func(d Deps) runbook.StepType { return &ReplicationCheck{clients: d.AWS} }},
		{name: "backup_restore", aws: true, new: func(d Deps) runbook.StepType { return &BackupRestore{clients: d.AWS} }},
		{name: "s3_restore", aws: true, new: func(d Deps) runbook.StepType { return NewS3Restore(d.AWS) }},
		{name: "model_rollback", aws: true, new: func(d Deps) runbook.StepType { return NewModelRollback(d.AWS) }},
	}
}

// Registry returns every step type this package provides, keyed by the name
// written in `step "TYPE" "NAME"`.
func Registry(deps Deps) runbook.Registry {
	deps = deps.withDefaults()
	reg := runbook.Registry{}
	for _, t := range stepTypes() {
		reg[t.name] = t.new(deps)
	}
	return reg
}

// UsesAWS reports whether the step type named typ calls AWS.
func UsesAWS(typ string) bool {
	for _, t := range stepTypes() {
		if t.name == typ {
			return t.aws
		}
	}
	return false
}

// LoggedParams returns the request fields the step types' AWS calls may
// show in the API log (runbook.APIParams), sorted: what
// awsx.Options.LoggedParams takes besides the console's own.
func LoggedParams() []string {
	var out []string
	for _, typ := range Registry(Deps{}) {
		if p, ok := typ.(runbook.APIParams); ok {
			out = append(out, p.LoggedParams()...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// typeProblems reports what registry entries lack that other parts of
// drconsole ask of a step type, so that nothing is forgotten silently:
// every type decides how it runs in a drill (runbook.Drillable, or
// runbook.DrillRefuser saying why not); every AWS type answers what
// recovery points a drill measures from it (runbook.RecoveryPointer, nil by
// design for a type that restores nothing) and which request fields the API
// log shows (runbook.APIParams); and only AWS types declare request fields.
func typeProblems(types []stepType) []string {
	var problems []string
	seen := map[string]bool{}
	deps := Deps{}.withDefaults()
	for _, t := range types {
		if t.name == "" || seen[t.name] {
			problems = append(problems, fmt.Sprintf("step type %q: the name is empty or listed twice", t.name))
			continue
		}
		seen[t.name] = true
		typ := t.new(deps)
		_, drillable := typ.(runbook.Drillable)
		refuser, refuses := typ.(runbook.DrillRefuser)
		switch {
		case drillable && refuses:
			problems = append(problems, fmt.Sprintf("%s: both has a drill mode and refuses drills", t.name))
		case refuses && refuser.DrillRefusal() == "":
			problems = append(problems, fmt.Sprintf("%s: refuses drills without saying why (DrillRefusal)", t.name))
		case !drillable && !refuses:
			problems = append(problems, fmt.Sprintf("%s: no drill decision: implement runbook.Drillable, or runbook.DrillRefuser to say why it is not drill-safe", t.name))
		}
		params, declares := typ.(runbook.APIParams)
		if !t.aws {
			if declares {
				problems = append(problems, fmt.Sprintf("%s: declares API log parameters but is not registered as calling AWS", t.name))
			}
			continue
		}
		if _, ok := typ.(runbook.RecoveryPointer); !ok {
			problems = append(problems, fmt.Sprintf("%s: no recovery-point answer: implement runbook.RecoveryPointer (returning nil if it restores nothing)", t.name))
		}
		if !declares || len(params.LoggedParams()) == 0 {
			problems = append(problems, fmt.Sprintf("%s: no API log parameters: implement runbook.APIParams", t.name))
		}
	}
	return problems
}
