// Package alerting is the one place that decides delivery. It accepts an
// alert (looks up the contact, plans the ordered channels, records the
// alert as accepted), delivers it with fallback (one attempt per channel,
// the next tried at once when one fails, within the invocation's time
// budget), and records every step: each change of the alert or of an
// attempt is written with its audit event in one atomic write under a
// version condition (Store.Write), so the audit can never miss or invent
// a transition. The allowed transitions and the event of each are
// shared/delivery's one table.
//
// The synchronous POST handler (package notify) drives it today; the
// acknowledgment and escalation functions and the asynchronous worker
// will drive the same Core. It knows no HTTP and no AWS: what it needs
// from the outside is declared in ports.go as small interfaces (Store,
// ContactStore, Publisher, Caller, Metrics), which the sibling adapters
// implement (dynamo, sns, connect, emf).
//
// An alert's content (description, patient id, type) is kept in its
// record for re-sending; nothing here logs it, and the read side (package
// status) never returns it.
package alerting
