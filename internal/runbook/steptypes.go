package runbook

import (
	"time"

	"github.com/zclconf/go-cty/cty"
)

// The optional interfaces below are what other parts of drconsole ask of a
// step type besides running it. Each is answered in the step type's own
// code, so that a new type brings its answers with it instead of being
// added to switches elsewhere.

// DrillRefuser is implemented by step types that have no drill mode on
// purpose: DrillRefusal says why running them in a drill could reach
// production. A step type is either Drillable or a DrillRefuser; a step of
// a refusing type runs in a drill only when it says drill_safe = true.
type DrillRefuser interface {
	DrillRefusal() string
}

// FinishedDrillStep is a drill step that finished, as the drill's journal
// records it.
type FinishedDrillStep struct {
	// Config is the drill configuration the step ran with (objects where
	// the step's spec had maps); a null value when none was recorded.
	Config cty.Value
	// Outputs are the step's outputs, read back without the step type's
	// output type; a null value when none were recorded.
	Outputs cty.Value
	// Started is when the step's first attempt started.
	Started time.Time
}

// RecoveryPoint is a restored state a drill measures its recovery point
// from: where the state came from, and the time it holds.
type RecoveryPoint struct {
	Source string // "to_time", "recovery_point_created", "replication lag"
	At     time.Time
}

// RecoveryPointer is implemented by step types whose drill steps may bring
// back an earlier state. RecoveryPoints returns the points in time a
// finished step restored (or, for a check, the state it saw). A type that
// restores nothing implements it and returns nil, so that the question was
// answered rather than forgotten.
type RecoveryPointer interface {
	RecoveryPoints(step FinishedDrillStep) []RecoveryPoint
}

// APIParams is implemented by step types that call AWS. LoggedParams names
// the request fields of their calls that the API log may show: names of
// resources and sizes, never payloads, tokens or secrets.
type APIParams interface {
	LoggedParams() []string
}
