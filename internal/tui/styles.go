package tui

import (
	"charm.land/lipgloss/v2"
)

// styles holds every style the console draws with, built once. Colours
// come from the 16 ANSI colours so the terminal's own palette applies; the
// program downsamples or drops them for 16-colour terminals and NO_COLOR,
// and no state is carried by colour alone (every state has a glyph and a
// word).
type styles struct {
	brand      lipgloss.Style
	sandbox    lipgloss.Style
	aws        lipgloss.Style
	readOnly   lipgloss.Style
	readWrite  lipgloss.Style
	clock      lipgloss.Style
	tab        lipgloss.Style
	tabActive  lipgloss.Style
	title      lipgloss.Style
	colHeader  lipgloss.Style
	selected   lipgloss.Style
	dim        lipgloss.Style
	ok         lipgloss.Style
	warn       lipgloss.Style
	bad        lipgloss.Style
	statusErr  lipgloss.Style
	key        lipgloss.Style
	keyDesc    lipgloss.Style
	modal      lipgloss.Style
	modalTitle lipgloss.Style
}

func newStyles() styles {
	return styles{
		brand:      lipgloss.NewStyle().Bold(true),
		sandbox:    lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Black).Background(lipgloss.Yellow),
		aws:        lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Black).Background(lipgloss.Cyan),
		readOnly:   lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Green),
		readWrite:  lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Red),
		clock:      lipgloss.NewStyle().Foreground(lipgloss.BrightBlack),
		tab:        lipgloss.NewStyle(),
		tabActive:  lipgloss.NewStyle().Bold(true).Reverse(true),
		title:      lipgloss.NewStyle().Bold(true).Underline(true),
		colHeader:  lipgloss.NewStyle().Bold(true),
		selected:   lipgloss.NewStyle().Reverse(true),
		dim:        lipgloss.NewStyle().Foreground(lipgloss.BrightBlack),
		ok:         lipgloss.NewStyle().Foreground(lipgloss.Green),
		warn:       lipgloss.NewStyle().Foreground(lipgloss.Yellow),
		bad:        lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Red),
		statusErr:  lipgloss.NewStyle().Foreground(lipgloss.Red),
		key:        lipgloss.NewStyle().Bold(true),
		keyDesc:    lipgloss.NewStyle().Foreground(lipgloss.BrightBlack),
		modal:      lipgloss.NewStyle().Border(lipgloss.DoubleBorder()).Padding(0, 1),
		modalTitle: lipgloss.NewStyle().Bold(true),
	}
}
