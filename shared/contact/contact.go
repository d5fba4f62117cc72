// Package contact describes a clinician who receives alerts: the channels
// they prefer for each priority, in order (the first is tried first, the
// next when it fails), and where each channel delivers. It also maps a
// contact to and from the contacts table's item, whose attribute names are
// in package names.
package contact

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// Channel is a way of delivering an alert.
type Channel string

// The channels a contact can prefer.
const (
	ChannelCall  Channel = "call"
	ChannelSMS   Channel = "sms"
	ChannelEmail Channel = "email"
)

// Channels lists every channel.
var Channels = []Channel{ChannelCall, ChannelSMS, ChannelEmail}

// ParseChannel returns the channel named s, or an error naming the
// channels that exist.
func ParseChannel(s string) (Channel, error) {
	for _, c := range Channels {
		if string(c) == s {
			return c, nil
		}
	}
	return "", fmt.Errorf("unknown channel %q (want call, sms or email)", s)
}

// channelSeparator joins an ordered channel list in the contacts table's
// preference attributes ("call,sms").
const channelSeparator = ","

// ParseChannels reads an ordered channel list as FormatChannels writes it
// ("call,sms"; a single channel is a list of one). It fails on an empty
// list, an unknown channel or a channel named twice.
func ParseChannels(s string) ([]Channel, error) {
	var out []Channel
	for _, part := range strings.Split(s, channelSeparator) {
		ch, err := ParseChannel(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		if slices.Contains(out, ch) {
			return nil, fmt.Errorf("channel %s is named twice", ch)
		}
		out = append(out, ch)
	}
	return out, nil
}

// FormatChannels writes an ordered channel list: "call,sms".
func FormatChannels(chs []Channel) string {
	parts := make([]string, len(chs))
	for i, ch := range chs {
		parts[i] = string(ch)
	}
	return strings.Join(parts, channelSeparator)
}

// Contact is a clinician and their delivery preferences.
type Contact struct {
	// ID is the contact_id that alerts name.
	ID string
	// Name is the clinician's display name.
	Name string
	// Preferences maps each priority to the channels to use for it, in
	// the order they are tried.
	Preferences map[alert.Priority][]Channel
	// CallPhone is the E.164 number for voice calls.
	CallPhone string
	// SMSTopicARN is the SNS topic that delivers SMS to the contact.
	SMSTopicARN string
	// EmailTopicARN is the SNS topic that delivers email to the contact.
	EmailTopicARN string
	// SMSPhone is the E.164 number the SMS topic texts: an SMS reply that
	// acknowledges an alert must come from it.
	SMSPhone string
	// Secondary is the contact an escalation policy's "secondary" target
	// reaches for this one (a registrar); "" when it has none.
	Secondary string
}

// ErrNoDestination reports that a contact has no destination for any of
// the channels it prefers at a priority.
var ErrNoDestination = errors.New("no destination for the preferred channels")

// Route is one step of a delivery plan: a channel and where it delivers.
type Route struct {
	// Channel is the channel.
	Channel Channel
	// Destination is a phone number for calls, a topic ARN for SMS and
	// email: never logged, never returned.
	Destination string
}

// Routes returns the contact's channels for p, in order, each with its
// destination. A channel without a destination is left out (the deploy
// refuses such a configuration, so only a hand-edited item has one). It
// wraps ErrNoDestination when no channel is left.
func (c Contact) Routes(p alert.Priority) ([]Route, error) {
	chs, ok := c.Preferences[p]
	if !ok || len(chs) == 0 {
		return nil, fmt.Errorf("contact %s has no channel for priority %s: %w", c.ID, p, ErrNoDestination)
	}
	routes := make([]Route, 0, len(chs))
	for _, ch := range chs {
		if dest := c.Destination(ch); dest != "" {
			routes = append(routes, Route{Channel: ch, Destination: dest})
		}
	}
	if len(routes) == 0 {
		return nil, fmt.Errorf("contact %s prefers %s for priority %s: %w", c.ID, FormatChannels(chs), p, ErrNoDestination)
	}
	return routes, nil
}

// Destination returns where ch delivers for this contact, or "".
func (c Contact) Destination(ch Channel) string {
	switch ch {
	case ChannelCall:
		return c.CallPhone
	case ChannelSMS:
		return c.SMSTopicARN
	case ChannelEmail:
		return c.EmailTopicARN
	default:
		return ""
	}
}

// Item returns the contact as the contacts table's item: attribute name to
// string value. Empty values are left out.
func (c Contact) Item() map[string]string {
	item := map[string]string{
		names.AttrContactID:   c.ID,
		names.AttrContactName: c.Name,
	}
	for _, p := range alert.Priorities {
		if chs, ok := c.Preferences[p]; ok && len(chs) > 0 {
			item[PreferenceAttr(p)] = FormatChannels(chs)
		}
	}
	for attr, v := range map[string]string{
		names.AttrCallPhone:     c.CallPhone,
		names.AttrSMSTopicARN:   c.SMSTopicARN,
		names.AttrEmailTopicARN: c.EmailTopicARN,
		names.AttrSMSPhone:      c.SMSPhone,
		names.AttrSecondary:     c.Secondary,
	} {
		if v != "" {
			item[attr] = v
		}
	}
	return item
}

// PreferenceAttr is the attribute holding the channels for priority p.
func PreferenceAttr(p alert.Priority) string {
	return names.AttrPreferencePrefix + string(p)
}

// FromItem reads a contact from the contacts table's item. It fails when
// the id is missing or a preference is not a list of known channels
// (ParseChannels; a single channel, the form before lists, still reads).
func FromItem(item map[string]string) (Contact, error) {
	c := Contact{
		ID:            item[names.AttrContactID],
		Name:          item[names.AttrContactName],
		Preferences:   map[alert.Priority][]Channel{},
		CallPhone:     item[names.AttrCallPhone],
		SMSTopicARN:   item[names.AttrSMSTopicARN],
		EmailTopicARN: item[names.AttrEmailTopicARN],
		SMSPhone:      item[names.AttrSMSPhone],
		Secondary:     item[names.AttrSecondary],
	}
	if c.ID == "" {
		return Contact{}, fmt.Errorf("contact item has no %s", names.AttrContactID)
	}
	for _, p := range alert.Priorities {
		v, ok := item[PreferenceAttr(p)]
		if !ok {
			continue
		}
		chs, err := ParseChannels(v)
		if err != nil {
			return Contact{}, fmt.Errorf("contact %s %s: %w", c.ID, PreferenceAttr(p), err)
		}
		c.Preferences[p] = chs
	}
	return c, nil
}

// e164 is "+", a country code not starting with 0, and at most 15 digits.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// ValidateE164 reports whether s is a phone number in E.164 form
// ("+447700900123"): a plus sign and 2 to 15 digits, the first not 0.
func ValidateE164(s string) error {
	if !e164.MatchString(s) {
		if strings.ContainsAny(s, " -()") {
			return fmt.Errorf("phone number %q is not E.164: remove spaces, hyphens and brackets (e.g. +447700900123)", s)
		}
		return fmt.Errorf("phone number %q is not E.164: want + then 2 to 15 digits, no leading 0 (e.g. +447700900123)", s)
	}
	return nil
}
