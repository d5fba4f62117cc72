package alert

// Priority is an alert's urgency. It selects the contact's channel.
type Priority string

// The three priorities, as sent on the wire.
const (
	PriorityLow    Priority = "L"
	PriorityMedium Priority = "M"
	PriorityHigh   Priority = "H"
)

// Priorities lists every priority, highest first.
var Priorities = []Priority{PriorityHigh, PriorityMedium, PriorityLow}

// Valid reports whether p is one of the three priorities.
func (p Priority) Valid() bool {
	return p == PriorityLow || p == PriorityMedium || p == PriorityHigh
}

// Label is the priority's word for people: "low", "medium" or "high".
func (p Priority) Label() string {
	switch p {
	case PriorityLow:
		return "low"
	case PriorityMedium:
		return "medium"
	case PriorityHigh:
		return "high"
	default:
		return "unknown"
	}
}
