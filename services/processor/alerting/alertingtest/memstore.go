// Package alertingtest holds an in-memory alerting.Store for tests of the
// packages that drive or read the alerting core (notify, status, and the
// functions still to come). It keeps the semantics of the DynamoDB
// adapter: a version condition on the state item, a status condition on
// the attempt, events that are never overwritten, all or nothing. It is
// never linked into a function.
package alertingtest

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
)

// MemStore is an in-memory alerting.Store. Its fields let a test inject
// failures; every successful write is kept in Writes.
type MemStore struct {
	mu      sync.Mutex
	alerts  map[alert.Key]map[string]*alerting.Alert // key -> instance -> alert
	lookups map[string]alerting.Lookup               // kind#hash -> lookup

	// Writes are the changes written, in order.
	Writes []alerting.Change
	// FailWrite, when set, is asked before each write; a non-nil error
	// fails it (nothing written).
	FailWrite func(ch alerting.Change) error
	// BeforeWrite, when set, runs before each write, outside the store's
	// lock: a test lets another writer in between a read and a write.
	BeforeWrite func(ch alerting.Change)
}

var _ alerting.Store = (*MemStore)(nil)

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{alerts: map[alert.Key]map[string]*alerting.Alert{}, lookups: map[string]alerting.Lookup{}}
}

func lookupKey(kind alerting.LookupKind, hash string) string { return string(kind) + "#" + hash }

// checkLookups applies the adapter's conditions to ch's lookups: a new one
// must not exist, a used one must exist unused.
func (s *MemStore) checkLookups(ch alerting.Change) error {
	for _, l := range ch.Lookups {
		have, ok := s.lookups[lookupKey(l.Kind, l.Hash)]
		if (!l.Use && ok) || (l.Use && (!ok || have.Used())) {
			return fmt.Errorf("lookup %s: %w", l.Kind, alerting.ErrConflict)
		}
	}
	return nil
}

// checkVersions applies the adapter's conditions: the state item's
// version, and the attempt's status before the change.
func checkVersions(ch alerting.Change, cur *alerting.Alert) error {
	a := ch.Alert
	switch {
	case ch.From == 0 && cur != nil, ch.From != 0 && (cur == nil || cur.Version != ch.From):
		return fmt.Errorf("state of %s/%s: %w", a.Key, a.Instance, alerting.ErrConflict)
	case a.Version != ch.From+len(ch.Events):
		return fmt.Errorf("version %d after %d events from %d", a.Version, len(ch.Events), ch.From)
	case ch.Attempt == nil:
		return nil
	}
	var have delivery.AttemptStatus
	if cur != nil {
		for _, at := range cur.Attempts {
			if at.Number == ch.Attempt.Number {
				have = at.Status
			}
		}
	}
	if have != ch.AttemptFrom {
		return fmt.Errorf("attempt %d is %q, not %q: %w", ch.Attempt.Number, have, ch.AttemptFrom, alerting.ErrConflict)
	}
	return nil
}

// Write applies ch under the adapter's conditions.
func (s *MemStore) Write(_ context.Context, ch alerting.Change) error {
	if s.BeforeWrite != nil {
		s.BeforeWrite(ch)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.FailWrite != nil {
		if err := s.FailWrite(ch); err != nil {
			return err
		}
	}
	a := ch.Alert
	byInstance := s.alerts[a.Key]
	cur := byInstance[a.Instance]
	if err := s.checkLookups(ch); err != nil {
		return err
	}
	if err := checkVersions(ch, cur); err != nil {
		return err
	}
	next := *copyAlert(a)
	next.Events = nil
	if cur != nil {
		next.Events = append(next.Events, cur.Events...)
	}
	next.Events = append(next.Events, ch.Events...)
	if byInstance == nil {
		byInstance = map[string]*alerting.Alert{}
		s.alerts[a.Key] = byInstance
	}
	byInstance[a.Instance] = &next
	for _, l := range ch.Lookups {
		s.lookups[lookupKey(l.Kind, l.Hash)] = l
	}
	s.Writes = append(s.Writes, ch)
	return nil
}

// Load returns one instance of key.
func (s *MemStore) Load(_ context.Context, key alert.Key, instance string) (*alerting.Alert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.alerts[key][instance]
	if !ok {
		return nil, fmt.Errorf("alert %s/%s: %w", key, instance, alerting.ErrNotFound)
	}
	return copyAlert(a), nil
}

// FindLookup returns the lookup of kind with hash.
func (s *MemStore) FindLookup(_ context.Context, kind alerting.LookupKind, hash string) (alerting.Lookup, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.lookups[lookupKey(kind, hash)]
	if !ok {
		return alerting.Lookup{}, fmt.Errorf("%s: %w", kind, alerting.ErrNotFound)
	}
	l.Use = false
	return l, nil
}

// Lookups returns every lookup written, in no order.
func (s *MemStore) Lookups() []alerting.Lookup {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]alerting.Lookup, 0, len(s.lookups))
	for _, l := range s.lookups {
		out = append(out, l)
	}
	return out
}

func copyAlert(a *alerting.Alert) *alerting.Alert {
	c := *a
	c.Attempts = append([]alerting.Attempt(nil), a.Attempts...)
	c.Events = append([]alerting.Event(nil), a.Events...)
	if a.Ack != nil {
		ack := *a.Ack
		c.Ack = &ack
	}
	return &c
}

// Latest returns the newest instance of key.
func (s *MemStore) Latest(_ context.Context, key alert.Key) (*alerting.Alert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	byInstance := s.alerts[key]
	if len(byInstance) == 0 {
		return nil, fmt.Errorf("alert %s: %w", key, alerting.ErrNotFound)
	}
	instances := make([]string, 0, len(byInstance))
	for i := range byInstance {
		instances = append(instances, i)
	}
	sort.Strings(instances)
	return copyAlert(byInstance[instances[len(instances)-1]]), nil
}

// Instances returns how many instances key has.
func (s *MemStore) Instances(key alert.Key) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.alerts[key])
}

// Bump moves key's newest instance to the next version without an event,
// as a conflicting writer would.
func (s *MemStore) Bump(key alert.Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var newest *alerting.Alert
	for _, a := range s.alerts[key] {
		if newest == nil || a.Instance > newest.Instance {
			newest = a
		}
	}
	if newest != nil {
		newest.Version++
	}
}

// Discard is an alerting.Store that accepts every write and keeps nothing,
// for benchmarks of what drives the core.
type Discard struct{}

var _ alerting.Store = Discard{}

// Write accepts ch.
func (Discard) Write(context.Context, alerting.Change) error { return nil }

// Latest finds nothing.
func (Discard) Latest(_ context.Context, key alert.Key) (*alerting.Alert, error) {
	return nil, fmt.Errorf("alert %s: %w", key, alerting.ErrNotFound)
}

// Load finds nothing.
func (Discard) Load(_ context.Context, key alert.Key, _ string) (*alerting.Alert, error) {
	return nil, fmt.Errorf("alert %s: %w", key, alerting.ErrNotFound)
}

// FindLookup finds nothing.
func (Discard) FindLookup(context.Context, alerting.LookupKind, string) (alerting.Lookup, error) {
	return alerting.Lookup{}, alerting.ErrNotFound
}
