package dynamo

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/escalation"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// decodeAlert reads one instance's items (state, attempts, events) into
// an alert, attempts and events in number order.
func decodeAlert(items []map[string]types.AttributeValue) (*alerting.Alert, error) {
	var a *alerting.Alert
	var attempts []alerting.Attempt
	var events []alerting.Event
	for _, item := range items {
		r := &itemReader{item: item}
		switch kind := r.str(names.AttrKind, true); kind {
		case kindState:
			a = decodeState(r)
		case kindAttempt:
			attempts = append(attempts, decodeAttempt(r))
		case kindEvent:
			events = append(events, decodeEvent(r))
		default:
			if r.err == nil {
				r.err = fmt.Errorf("unknown item kind %q", kind)
			}
		}
		if r.err != nil {
			return nil, fmt.Errorf("item %s: %w", itemSK(item), r.err)
		}
	}
	if a == nil {
		return nil, errors.New("no state item")
	}
	slices.SortFunc(attempts, func(x, y alerting.Attempt) int { return x.Number - y.Number })
	slices.SortFunc(events, func(x, y alerting.Event) int { return x.Seq - y.Seq })
	a.Attempts, a.Events = attempts, events
	return a, nil
}

func itemSK(item map[string]types.AttributeValue) string {
	if v, ok := item[names.AttrSK].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return "(no sort key)"
}

func decodeState(r *itemReader) *alerting.Alert {
	a := &alerting.Alert{
		Instance:    r.str(names.AttrInstance, true),
		Version:     int(r.num(names.AttrVersion)),
		Status:      delivery.AlertStatus(r.str(names.AttrAlertStatus, true)),
		Priority:    alert.Priority(r.str(names.AttrPriority, true)),
		ContactID:   r.str(names.AttrContactID, true),
		PayloadHash: r.str(names.AttrPayloadHash, false),
		AcceptedAt:  r.time(names.AttrAcceptedAt),
		SentAt:      r.time(names.AttrSentAt),
		UpdatedAt:   r.time(names.AttrUpdatedAt),
		ExpiresAt:   time.Unix(r.num(names.AttrExpiresAt), 0).UTC(),
	}
	if k, err := alert.ParseKey(r.str(names.AttrPK, true)); err == nil {
		a.Key = k
	} else if r.err == nil {
		r.err = fmt.Errorf("attribute %s: %w", names.AttrPK, err)
	}
	if chs := r.str(names.AttrChannels, true); r.err == nil {
		var err error
		if a.Channels, err = contact.ParseChannels(chs); err != nil {
			r.err = fmt.Errorf("attribute %s: %w", names.AttrChannels, err)
		}
	}
	if content := r.str(names.AttrContent, true); r.err == nil {
		if err := json.Unmarshal([]byte(content), &a.Content); err != nil {
			r.err = fmt.Errorf("attribute %s is not an alert", names.AttrContent) // never quote the content
		}
	}
	decodeEscalation(r, a)
	return a
}

// decodeEscalation reads the state item's policy, stage and
// acknowledgment.
func decodeEscalation(r *itemReader, a *alerting.Alert) {
	a.Stage = int(r.num(names.AttrStage))
	if policy := r.str(names.AttrPolicy, false); policy != "" && r.err == nil {
		if err := json.Unmarshal([]byte(policy), &a.Policy); err != nil {
			r.err = fmt.Errorf("attribute %s: %w", names.AttrPolicy, err)
		}
	}
	at := r.time(names.AttrAckedAt)
	if at.IsZero() || r.err != nil {
		return
	}
	ack := &alerting.Ack{
		At:      at,
		Method:  delivery.AckMethod(r.str(names.AttrAckMethod, true)),
		Attempt: int(r.num(names.AttrAckAttempt)),
		Late:    r.num(names.AttrLate) == 1,
	}
	if by := r.str(names.AttrAckedBy, true); r.err == nil {
		var err error
		if ack.By, err = delivery.ParseActor(by); err != nil {
			r.err = err
		}
	}
	a.Ack = ack
}

func decodeAttempt(r *itemReader) alerting.Attempt {
	return alerting.Attempt{
		Number:      int(r.num(names.AttrAttempt)),
		Channel:     contact.Channel(r.str(names.AttrChannel, true)),
		ContactID:   r.str(names.AttrContactID, true),
		Status:      delivery.AttemptStatus(r.str(names.AttrAlertStatus, true)),
		StartedAt:   r.time(names.AttrStartedAt),
		EndedAt:     r.time(names.AttrEndedAt),
		ProviderRef: r.str(names.AttrProviderRef, false),
		Failure:     delivery.Class(r.str(names.AttrFailureClass, false)),
		FailureCode: r.str(names.AttrFailureCode, false),
		Stage:       int(r.num(names.AttrStage)),
	}
}

func decodeEvent(r *itemReader) alerting.Event {
	e := alerting.Event{
		Seq:         int(r.num(names.AttrSeq)),
		Type:        delivery.EventType(r.str(names.AttrEventType, true)),
		At:          r.time(names.AttrAt),
		Status:      delivery.AlertStatus(r.str(names.AttrAlertStatus, true)),
		Attempt:     int(r.num(names.AttrAttempt)),
		Channel:     contact.Channel(r.str(names.AttrChannel, false)),
		FromChannel: contact.Channel(r.str(names.AttrFromChannel, false)),
		Failure:     delivery.Class(r.str(names.AttrFailureClass, false)),
		Reason:      delivery.Reason(r.str(names.AttrReason, false)),
		Stage:       int(r.num(names.AttrStage)),
		Method:      delivery.AckMethod(r.str(names.AttrAckMethod, false)),
		Late:        r.num(names.AttrLate) == 1,
		Target:      escalation.Target(r.str(names.AttrTarget, false)),
	}
	if actor := r.str(names.AttrActor, true); r.err == nil {
		var err error
		if e.Actor, err = delivery.ParseActor(actor); err != nil {
			r.err = err
		}
	}
	return e
}

// time reads a Unix-milliseconds attribute; absent is the zero time.
func (r *itemReader) time(name string) time.Time {
	ms := r.num(name)
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
