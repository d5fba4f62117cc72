package integration

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestExternalTargetConfig checks how the environment selects and
// describes an external target, and that an incomplete one is refused
// with a message naming everything missing. It needs no target.
func TestExternalTargetConfig(t *testing.T) {
	t.Parallel()

	complete := filepath.Join("testdata", "outputs", "localstack.json")

	inline, err := os.ReadFile(complete)
	if err != nil {
		t.Fatal(err)
	}

	wantARNs := map[string]string{
		"C-1/email": "arn:aws:sns:us-east-1:000000000000:messaging-C-1-email-9a8b7c6",
		"C-1/sms":   "arn:aws:sns:us-east-1:000000000000:messaging-C-1-sms-5d4e3f2",
	}

	for _, tc := range []struct {
		name string
		env  map[string]string
		// want is the spec expected, or nil when an error is.
		want *externalSpec
		// errParts must all appear in the error.
		errParts []string
	}{
		{
			name: "outputs file, token and endpoint",
			env:  map[string]string{envStackOutputs: complete, envAPIToken: "tok", envTargetEndpoint: "http://localhost:4566"},
			want: &externalSpec{
				url:   "https://abcdef1234.execute-api.localhost.localstack.cloud:4566/localstack/notification",
				token: "tok", endpoint: "http://localhost:4566", topicARNs: wantARNs,
			},
		},
		{
			name: "inline outputs without an endpoint",
			env:  map[string]string{envStackOutputs: "\n" + string(inline), envAPIToken: "tok"},
			want: &externalSpec{url: "https://abcdef1234.execute-api.localhost.localstack.cloud:4566/localstack/notification", token: "tok"},
		},
		{
			name:     "everything missing",
			env:      map[string]string{envStackOutputs: filepath.Join("testdata", "outputs", "no_url.json"), envTargetEndpoint: "http://localhost:4566"},
			errParts: []string{"incomplete", envAPIToken, "notificationUrl", "topicArns"},
		},
		{
			name:     "no token",
			env:      map[string]string{envStackOutputs: complete},
			errParts: []string{"incomplete", envAPIToken},
		},
		{
			name:     "outputs neither JSON nor a file",
			env:      map[string]string{envStackOutputs: "no-such-file.json", envAPIToken: "tok"},
			errParts: []string{envStackOutputs, "neither a JSON object nor a readable file"},
		},
		{
			name:     "outputs not JSON",
			env:      map[string]string{envStackOutputs: "{notificationUrl", envAPIToken: "tok"},
			errParts: []string{envStackOutputs, "pulumi stack output --json"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()

			got, err := parseExternal(func(k string) string { return tc.env[k] })

			if tc.want != nil {
				if err != nil || !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
				}

				return
			}

			if err == nil {
				t.Fatalf("got %+v, want an error", got)
			}

			for _, part := range tc.errParts {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not name %q", err, part)
				}
			}
		})
	}
}
