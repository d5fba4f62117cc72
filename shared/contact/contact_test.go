package contact_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
)

func sample() contact.Contact {
	return contact.Contact{
		ID:   "C-1",
		Name: "Dr Example",
		Preferences: map[alert.Priority]contact.Channel{
			alert.PriorityHigh: contact.ChannelCall, alert.PriorityMedium: contact.ChannelSMS, alert.PriorityLow: contact.ChannelEmail,
		},
		CallPhone:     "+447700900123",
		SMSTopicARN:   "arn:aws:sns:eu-west-2:000000000000:c1-sms",
		EmailTopicARN: "arn:aws:sns:eu-west-2:000000000000:c1-email",
	}
}

func TestRoute(t *testing.T) {
	t.Parallel()
	c := sample()
	tests := []struct {
		p        alert.Priority
		wantCh   contact.Channel
		wantDest string
	}{
		{alert.PriorityHigh, contact.ChannelCall, "+447700900123"},
		{alert.PriorityMedium, contact.ChannelSMS, "arn:aws:sns:eu-west-2:000000000000:c1-sms"},
		{alert.PriorityLow, contact.ChannelEmail, "arn:aws:sns:eu-west-2:000000000000:c1-email"},
	}
	for _, tt := range tests {
		ch, dest, err := c.Route(tt.p)
		if err != nil || ch != tt.wantCh || dest != tt.wantDest {
			t.Errorf("Route(%s) = %s, %s, %v; want %s, %s", tt.p, ch, dest, err, tt.wantCh, tt.wantDest)
		}
	}
}

func TestRouteNoDestination(t *testing.T) {
	t.Parallel()
	c := sample()
	c.SMSTopicARN = ""
	delete(c.Preferences, alert.PriorityLow)
	for _, p := range []alert.Priority{alert.PriorityMedium, alert.PriorityLow} {
		if _, _, err := c.Route(p); !errors.Is(err, contact.ErrNoDestination) {
			t.Errorf("Route(%s) error = %v, want ErrNoDestination", p, err)
		}
	}
}

func TestItemRoundTrip(t *testing.T) {
	t.Parallel()
	c := sample()
	item := c.Item()
	want := map[string]string{
		"contact_id": "C-1", "name": "Dr Example", "pref_H": "call", "pref_M": "sms", "pref_L": "email",
		"call_phone": "+447700900123", "sms_topic_arn": c.SMSTopicARN, "email_topic_arn": c.EmailTopicARN,
	}
	if !reflect.DeepEqual(item, want) {
		t.Errorf("Item() = %v, want %v", item, want)
	}
	back, err := contact.FromItem(item)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("FromItem(Item()) = %+v, want %+v", back, c)
	}
	c.CallPhone = ""
	if _, ok := c.Item()["call_phone"]; ok {
		t.Errorf("empty destination written to the item")
	}
}

func TestFromItemErrors(t *testing.T) {
	t.Parallel()
	if _, err := contact.FromItem(map[string]string{"name": "x"}); err == nil || !strings.Contains(err.Error(), "contact_id") {
		t.Errorf("missing id: %v", err)
	}
	if _, err := contact.FromItem(map[string]string{"contact_id": "C", "pref_H": "fax"}); err == nil || !strings.Contains(err.Error(), `unknown channel "fax"`) {
		t.Errorf("bad channel: %v", err)
	}
}

func TestValidateE164(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		"+447700900123":     true,
		"+15555550100":      true,
		"+123456789012345":  true,  // 15 digits
		"+1234567890123456": false, // 16 digits
		"447700900123":      false, // no plus (the sample's SMS number)
		"+0447700900123":    false,
		"+44 7700 900123":   false,
		"+44-7700-900123":   false,
		"+1":                false,
		"":                  false,
		"+44770090012a":     false,
	}
	for in, ok := range tests {
		err := contact.ValidateE164(in)
		if (err == nil) != ok {
			t.Errorf("ValidateE164(%q) = %v, want ok=%v", in, err, ok)
		}
	}
	if err := contact.ValidateE164("+44 7700 900123"); err == nil || !strings.Contains(err.Error(), "remove spaces") {
		t.Errorf("hint missing: %v", err)
	}
}

func TestParseChannel(t *testing.T) {
	t.Parallel()
	for _, ch := range contact.Channels {
		if got, err := contact.ParseChannel(string(ch)); err != nil || got != ch {
			t.Errorf("ParseChannel(%q) = %q, %v", ch, got, err)
		}
	}
	if _, err := contact.ParseChannel("Email"); err == nil {
		t.Error("ParseChannel is case-insensitive; want exact names")
	}
}
