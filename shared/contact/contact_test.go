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
		Preferences: map[alert.Priority][]contact.Channel{
			alert.PriorityHigh:   {contact.ChannelCall, contact.ChannelSMS},
			alert.PriorityMedium: {contact.ChannelSMS},
			alert.PriorityLow:    {contact.ChannelEmail},
		},
		CallPhone:     "+447700900123",
		SMSTopicARN:   "arn:aws:sns:eu-west-2:000000000000:c1-sms",
		EmailTopicARN: "arn:aws:sns:eu-west-2:000000000000:c1-email",
	}
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	c := sample()
	sms := contact.Route{Channel: contact.ChannelSMS, Destination: c.SMSTopicARN}
	tests := []struct {
		p    alert.Priority
		want []contact.Route
	}{
		{alert.PriorityHigh, []contact.Route{{Channel: contact.ChannelCall, Destination: "+447700900123"}, sms}},
		{alert.PriorityMedium, []contact.Route{sms}},
		{alert.PriorityLow, []contact.Route{{Channel: contact.ChannelEmail, Destination: c.EmailTopicARN}}},
	}
	for _, tt := range tests {
		got, err := c.Routes(tt.p)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Routes(%s) = %+v, %v; want %+v", tt.p, got, err, tt.want)
		}
	}
	// A channel without a destination is left out; the rest keep their
	// order.
	c.CallPhone = ""
	if got, err := c.Routes(alert.PriorityHigh); err != nil || !reflect.DeepEqual(got, []contact.Route{sms}) {
		t.Errorf("Routes(H) without a phone = %+v, %v; want only sms", got, err)
	}
}

func TestRoutesNoDestination(t *testing.T) {
	t.Parallel()
	c := sample()
	c.SMSTopicARN = ""
	delete(c.Preferences, alert.PriorityLow)
	for _, p := range []alert.Priority{alert.PriorityMedium, alert.PriorityLow} {
		if _, err := c.Routes(p); !errors.Is(err, contact.ErrNoDestination) {
			t.Errorf("Routes(%s) error = %v, want ErrNoDestination", p, err)
		}
	}
	c.Preferences[alert.PriorityLow] = nil
	if _, err := c.Routes(alert.PriorityLow); !errors.Is(err, contact.ErrNoDestination) {
		t.Errorf("Routes with an empty list: %v, want ErrNoDestination", err)
	}
}

func TestParseChannels(t *testing.T) {
	t.Parallel()
	good := map[string][]contact.Channel{
		"call":           {contact.ChannelCall},
		"call,sms":       {contact.ChannelCall, contact.ChannelSMS},
		"email, sms":     {contact.ChannelEmail, contact.ChannelSMS},
		"sms,call,email": {contact.ChannelSMS, contact.ChannelCall, contact.ChannelEmail},
	}
	for in, want := range good {
		got, err := contact.ParseChannels(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParseChannels(%q) = %v, %v; want %v", in, got, err, want)
		}
		if back, _ := contact.ParseChannels(contact.FormatChannels(got)); !reflect.DeepEqual(back, want) {
			t.Errorf("FormatChannels(%v) does not read back", got)
		}
	}
	for _, bad := range []string{"", "call,", "fax", "call,call", "sms,fax"} {
		if _, err := contact.ParseChannels(bad); err == nil {
			t.Errorf("ParseChannels(%q) succeeded", bad)
		}
	}
}

func TestItemRoundTrip(t *testing.T) {
	t.Parallel()
	c := sample()
	c.SMSPhone, c.Secondary = "+447700900124", "C-2"
	item := c.Item()
	want := map[string]string{
		"contact_id": "C-1", "name": "Dr Example", "pref_H": "call,sms", "pref_M": "sms", "pref_L": "email",
		"call_phone": "+447700900123", "sms_topic_arn": c.SMSTopicARN, "email_topic_arn": c.EmailTopicARN,
		"sms_phone": "+447700900124", "secondary": "C-2",
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
	if _, err := contact.FromItem(map[string]string{"contact_id": "C", "pref_H": "sms,sms"}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("repeated channel: %v", err)
	}
	// An item written before lists (one channel) still reads.
	c, err := contact.FromItem(map[string]string{"contact_id": "C", "pref_H": "call"})
	if err != nil || !reflect.DeepEqual(c.Preferences[alert.PriorityHigh], []contact.Channel{contact.ChannelCall}) {
		t.Errorf("single-channel item: %+v, %v", c.Preferences, err)
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
