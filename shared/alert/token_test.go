package alert_test

import (
	"strings"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
)

func TestCallClientToken(t *testing.T) {
	t.Parallel()
	a, b := alert.CallClientToken("msg-0001"), alert.CallClientToken("msg-0002")
	if a != alert.CallClientToken("msg-0001") {
		t.Error("the token is not stable for one message_id")
	}
	if a == b {
		t.Error("two message_ids share a token")
	}
	if len(a) != 64 || strings.Trim(a, "0123456789abcdef") != "" {
		t.Errorf("token %q is not 64 lowercase hex characters", a)
	}
	if strings.Contains(a, "msg-0001") {
		t.Error("the token holds the message_id in clear")
	}
	if long := alert.CallClientToken(strings.Repeat("x", 128)); len(long) > 500 {
		t.Errorf("token of the longest message_id is %d characters, over Connect's 500", len(long))
	}
}
