package main

import (
	"testing"
	"time"
)

// TestGroupOf: a stack belongs to the part of its innermost function that
// a part owns; the runtime alone is the runtime; anything else is other.
func TestGroupOf(t *testing.T) {
	t.Parallel()

	tests := []struct {
		stack []string // leaf first
		want  string
	}{
		{[]string{"runtime.memmove", "encoding/json.Marshal", "github.com/aws/aws-xray-sdk-go/xray.(*Segment).Close", "github.com/a2p-alerts/a2p-alerts/services/processor/notify.(*Handler).Handle"},
			"X-Ray SDK (segments, their JSON, the UDP emitter, its SDK middleware)"},
		{[]string{"crypto/sha256.block", "github.com/aws/aws-sdk-go-v2/aws/signer/v4.(*Signer).SignHTTP", "github.com/aws/smithy-go/middleware.decoratedHandler.Handle"},
			"AWS SDK: SigV4 request signing"},
		{[]string{"runtime.gcAssistAlloc", "runtime.mallocgc", "github.com/a2p-alerts/a2p-alerts/shared/alert.Decode"},
			"Go runtime: garbage collection"},
		{[]string{"internal/runtime/syscall/linux.Syscall6", "net.(*conn).Write", "net/http.persistConnWriter.Write", "net/http.(*persistConn).writeLoop"},
			"net/http client (the SDK's and the Runtime API's connections)"},
		{[]string{"runtime.futex", "runtime.findRunnable", "runtime.schedule", "runtime.mcall"}, runtimeGroup.name},
		{[]string{"strings.Index", "main.main"}, otherGroup},
		{[]string{"strings.Index", "github.com/a2p-alerts/a2p-alerts/shared/render.SMS"}, ownGroup},
	}
	for _, tt := range tests {
		if got := groupOf(tt.stack); got != tt.want {
			t.Errorf("groupOf(%v) = %q, want %q", tt.stack, got, tt.want)
		}
	}

	p := &cpuProfile{Samples: []cpuSample{
		{CPU: 30 * time.Millisecond, Stack: tests[0].stack},
		{CPU: 10 * time.Millisecond, Stack: tests[4].stack},
	}}

	groups := p.groups()
	if len(groups) != 2 || groups[0].Share != 0.75 || groups[1].Name != runtimeGroup.name {
		t.Errorf("groups = %+v, want X-Ray 75%% then the runtime", groups)
	}
}
