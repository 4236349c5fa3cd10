// Package tui is the drconsole console: a bubbletea program that shows
// the estate, runs runbooks through the run service and follows a run
// live. These are its rules.
//
// # One root model
//
// Model is the only tea.Model. It owns the frame (header, tabs, status
// line, footer, help, the gate modal), the `:` and `/` lines, the live run
// and the views, one model each behind the view interface, in tab order
// (viewID). env is what the views share: options, size, styles, keys,
// clock, the estate cache and a read of the live run (env.liveRun). A
// view holds no pointer to the root or to another view; what it needs of
// them it reads from env or asks for with a message.
//
// # Update: no I/O, and the only place state changes
//
// Only Update, and the view methods it calls, change the model (View
// only keeps what it caches to draw); both run on the program's loop.
// Update does no I/O: every AWS call, journal read, runbook load, file
// write and call of the run service runs in a tea.Cmd. A command works on
// values Update handed it, changes nothing the model holds and returns
// one message, which Update applies. Work that outlives a command reports
// through send
// (tea.Program.Send) from its own goroutine: a run's events (through
// Fanin, coalesced), its result, and the engine's gate questions
// (Approver). Update starts those goroutines once the run is prepared,
// and answers a gate by writing to the channel the engine waits on.
//
// # How a view asks, and how the answer comes back
//
// A view asks for data by returning a command from activate, refresh,
// back or update. The root wraps every command a view returns (address),
// so its message comes back as addressed{to, msg}, and delivers it to that
// view alone (deliver): two views waiting for the same kind of answer
// never take each other's. A view tells a stale answer (the operator
// moved on) by the generation or run id it stamped on the request, and
// drops it. An answer in several parts chains: handling one part returns
// the command that reads the next (a timeline's pages, a teardown's
// events).
//
// The estate is the exception: its parts are shared, loaded when a view
// first needs them and again when stale (env.need, env.reload: older than
// freshFor, or read before a run ended, env.changes) and answered as
// estateMsg, which fills env; the view on screen is then told, the others
// redraw when activated. A view of the estate is a freshener: entering it,
// and a run's end while it is on screen, read again what it shows that is
// stale, the old data staying on screen, with its age (asOf), until the
// new comes. Its grids name their rows (grid.setSourceByID), so a refresh
// keeps the cursor on the same item. A part
// keeps what it read when some of its calls fail: each failure is a
// loadError in estate.errs (estate.err only when the part read nothing),
// which the panes count (failNote) and the error panel (E) shows in full.
//
// # Messages and who handles them
//
// The root handles, whoever sent them:
//   - tea.WindowSizeMsg, tickMsg (the spinner), refreshMsg (the periodic
//     reload of the view on screen); the end of a drill's teardown
//     (teardownMsg), which it marks as a change of the estate before the
//     Runs view takes it;
//   - keys, pastes and the mouse wheel: the modal, the input lines and the
//     root's keys first, the rest to the view on screen (scrollMsg for the
//     wheel);
//   - estateMsg and objectiveMsg (the runbooks' RPO objective);
//   - the requests views make, with ask or as their command's answer:
//     statusMsg (the status line), startRunMsg and cancelRunMsg (the live
//     run; Models' roll back and Points' restore send one for a runbook
//     they generate, generatedRun), openRunbookMsg (open a runbook's
//     form with values filled in) and openResumeMsg (ask a resume's sensitive variables,
//     from Runs), which the root carries out on the Runbooks view;
//   - preparedMsg, runMsg and gateMsg, the run's own (below).
//
// Every other message belongs to the view it is addressed to:
// runbookListMsg to Runbooks; historyMsg, openRunMsg, resumeMsg and
// teardownMsg to Runs; listMsg, versionsMsg, detailMsg and settleMsg to
// Models. An unaddressed message the root does not handle goes to the
// view on screen.
//
// # Runs
//
// The console runs, plans, resumes, drills and tears down only through
// the run service (Options.Runs, internal/runner), which holds every rule
// that refuses or shapes a run. A startRunMsg is checked in Update against
// what the console forbids (read-only, a run live or being prepared, no
// program to report to); a command then has the service prepare the run,
// which resolves the variables, reads the journal and the runbook of a
// resume and probes the target. Its answer, preparedMsg, makes the run
// the live one: Update binds it to the Runbooks view, shows it when asked,
// and starts it on a goroutine whose events and result come back as
// runMsg. When the run ends the root has the Runs view read the journal
// again and, unless it was a dry run, marks the estate stale
// (estateChanged). A drill's teardown runs from the Runs view's command and streams
// its events back to it.
package tui
