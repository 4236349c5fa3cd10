package tui

import tea "charm.land/bubbletea/v2"

// How messages find their view: the root's views by place, the answers
// addressed to the view that asked, and the requests views make of the
// root (the package doc tells the whole of it).

// viewID is a view's place among the root's views: its tab number less
// one, and the address of the answers to the commands it returns.
type viewID int

const (
	viewOverview viewID = iota
	viewModels
	viewPoints
	viewReplication
	viewFleet
	viewRunbooks
	viewRuns
	viewAPILog
	viewVolumes
)

// addressed is a message for one view: the answer to a command that view
// returned. The root wraps every command a view returns (address), so an
// answer reaches the view that asked and no other, and a view never needs
// to know its own place.
type addressed struct {
	to  viewID
	msg tea.Msg
}

// address makes the messages of cmd, and of the commands it batches,
// come back addressed to view to. Views batch and never sequence: the
// message of tea.Sequence is the runtime's own and would be lost if it
// were addressed.
func address(to viewID, cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	return func() tea.Msg {
		switch msg := cmd().(type) {
		case nil:
			return nil
		case tea.BatchMsg:
			out := make(tea.BatchMsg, len(msg))
			for i, c := range msg {
				out[i] = address(to, c)
			}
			return out
		default:
			return addressed{to: to, msg: msg}
		}
	}
}

// deliver hands msg to view to; what the view asks for comes back to it.
func (m *Model) deliver(to viewID, msg tea.Msg) tea.Cmd {
	return address(to, m.views[to].update(m.env, msg))
}

// ask is a command whose message is msg: how a view asks the root for
// what the root or another view owns.
func ask(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }

// statusMsg sets the status line.
type statusMsg struct {
	text string
	err  bool
}

// status asks the root to set the status line.
func status(text string, isErr bool) tea.Cmd { return ask(statusMsg{text: text, err: isErr}) }

// cancelRunMsg asks the root to cancel the live run.
type cancelRunMsg struct{}

// openResumeMsg asks the root to open the Runbooks view's form for the
// resume checked in it, to ask for the variables the journal lacks.
type openResumeMsg resumeMsg
