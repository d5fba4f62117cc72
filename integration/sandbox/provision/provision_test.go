package provision

import (
	"archive/zip"
	"context"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	lambdasvc "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	awsindex "github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	snsres "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/a2p-alerts/a2p-alerts/infra/stack"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/emulator"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/token"
)

// Shared by the tests: the repository root, the kumo binary, one emulator,
// and a folder of stand-in deployment packages (the provisioner uploads
// them; nothing runs them here).
var (
	root      string
	kumoBin   string
	kumo      *emulator.Emulator
	artifacts string
)

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "provision tests: setup failed:", err)

		code = 1
	}

	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	var err error
	if root, err = filepath.Abs(filepath.Join("..", "..", "..")); err != nil {
		return 0, err
	}

	if kumoBin, err = emulator.Locate(root); err != nil {
		return 0, err
	}

	if artifacts, err = os.MkdirTemp("", "a2p-provision-test-"); err != nil {
		return 0, err
	}
	defer func() { _ = os.RemoveAll(artifacts) }()

	for _, fn := range names.Functions {
		if err := writeZip(filepath.Join(artifacts, fn+".zip"), fn); err != nil {
			return 0, err
		}
	}

	if kumo, err = emulator.Start(context.Background(), emulator.Options{Bin: kumoBin, Region: "eu-west-2"}); err != nil {
		return 0, err
	}

	code := m.Run()
	if code != 0 {
		fmt.Printf("===== kumo output =====\n%s\n", kumo.Output())
	}

	return code, kumo.Stop()
}

// writeZip writes a stand-in package: an executable bootstrap that starts
// like a Linux arm64 binary (the stack files' lambdaArch), which is all
// the program checks before deploying, then names fn.
func writeZip(path, fn string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}

	zw := zip.NewWriter(f)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)

	header := make([]byte, 20)
	copy(header, elf.ELFMAG)
	header[elf.EI_CLASS], header[elf.EI_DATA] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB)
	binary.LittleEndian.PutUint16(header[18:], uint16(elf.EM_AARCH64))

	w, err := zw.CreateHeader(h)
	if err == nil {
		_, err = w.Write(append(header, "bootstrap of "+fn...))
	}

	return errors.Join(err, zw.Close(), f.Close())
}

// placeholderFills replaces what the example stack files leave for the
// user to fill, as the README says to: the API clients' hashes (from
// scripts/gentoken) and an existing Connect instance's id. The program
// refuses the placeholders themselves.
func placeholderFills(sf *stack.File) map[string]string {
	out := map[string]string{}

	var clients []map[string]any
	if err := json.Unmarshal([]byte(sf.Config[sf.Key(names.ConfigAPIClients)]), &clients); err == nil {
		for i, c := range clients {
			c["sha256"] = token.Hash(fmt.Sprintf("example-token-%d", i))
		}

		if b, err := json.Marshal(clients); err == nil {
			out[names.ConfigAPIClients] = string(b)
		}
	}

	if sf.Config[sf.Key(names.ConfigConnectInstanceID)] != "" {
		out[names.ConfigConnectInstanceID] = "5f0c2a4e-9d1b-4c3a-8e7f-6a5b4c3d2e1f"
	}

	return out
}

// deployStack deploys the real program, infra/stack.Program, configured by
// one of the project's stack files with the stand-in packages and its
// placeholders filled, plus overrides (project settings by name).
func deployStack(t *testing.T, em *emulator.Emulator, stackFile string, overrides map[string]string) *Deployment {
	t.Helper()

	sf, err := stack.LoadFile(filepath.Join(root, stackFile))
	if err != nil {
		t.Fatal(err)
	}

	sf.Config[sf.Key(names.ConfigArtifactDir)] = artifacts
	for k, v := range placeholderFills(sf) {
		sf.Config[sf.Key(k)] = v
	}

	for k, v := range overrides {
		sf.Config[sf.Key(k)] = v
	}

	d, err := Deploy(t.Context(), Options{Endpoint: em.Endpoint, Project: sf.Project, Stack: sf.Stack, Config: sf.Config}, program)
	if err != nil {
		t.Fatal(err)
	}

	return d
}

func program(ctx *pulumi.Context) error {
	_, err := stack.Program(ctx)

	return err
}

// TestEveryStackFileDeploys deploys the real program with each of the
// project's stack files (a manageApiGatewayAccount override adds the one
// resource none of them registers): every resource is created in the
// emulator or recorded as NotEmulated says, and the outputs have the shape
// the tests and `make dev` use. Every NotEmulated entry must be
// registered by some stack: the list has no dead entries.
func TestEveryStackFileDeploys(t *testing.T) {
	t.Parallel()

	files, err := filepath.Glob(filepath.Join(root, "Pulumi.*.yaml"))
	if err != nil || len(files) < 3 {
		t.Fatalf("stack files %v (%v)", files, err)
	}

	var registered sync.Map // NotEmulated types some stack registered

	t.Run("stacks", func(t *testing.T) {
		for _, path := range files {
			t.Run(filepath.Base(path), func(t *testing.T) {
				t.Parallel()

				d := deployStack(t, kumo, filepath.Base(path), map[string]string{names.ConfigManageAPIGatewayAccount: "true"})
				for _, r := range d.Resources {
					if checkRecord(t, r) {
						registered.Store(r.Type, true)
					}
				}

				want := regexp.MustCompile(`^http://[0-9a-z-]+\.execute-api\.localhost:` + fmt.Sprint(kumo.Port) + `/v1/notification$`)
				if got := d.OutputString(names.OutputNotificationURL); !want.MatchString(got) {
					t.Errorf("%s = %q, want the emulator's virtual host", names.OutputNotificationURL, got)
				}
			})
		}
	})

	for typ, u := range NotEmulated {
		if _, ok := registered.Load(typ); !ok && !u.Behaviour() {
			t.Errorf("NotEmulated lists %s, which no stack file registers: remove it", typ)
		}
	}
}

// checkRecord checks that r was created in the emulator, or recorded when
// NotEmulated covers it or it is a component, and reports whether
// NotEmulated covered it.
func checkRecord(t *testing.T, r *Resource) bool {
	t.Helper()

	u, listed := NotEmulated[r.Type]
	_, hosted := creators[r.Type]
	recorded := listed && (u.Applies == nil || u.Applies(props(r.Inputs)))

	switch {
	case recorded && r.Emulated, !hosted && r.Emulated:
		t.Errorf("%s %s claims to be emulated", r.Type, r.Name)
	case hosted && !recorded && !r.Emulated:
		t.Errorf("%s %s was not created in the emulator", r.Type, r.Name)
	}

	return recorded
}

// TestLocalStackInTheEmulator deploys Pulumi.local.yaml into an emulator
// of its own, as the sandbox does, and reads back what the functions will
// rely on.
func TestLocalStackInTheEmulator(t *testing.T) {
	t.Parallel()

	em, err := emulator.Start(t.Context(), emulator.Options{Bin: kumoBin, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { _ = em.Stop() })

	d := deployStack(t, em, "Pulumi.local.yaml", nil)
	c := emulator.NewClients(em.Endpoint, d.Region)

	topics, ok := d.Outputs[names.OutputTopicARNs].(map[string]any)
	smsTopic, _ := topics[stack.TopicKey("C-1", contact.ChannelSMS)].(string)

	if !ok || !strings.HasPrefix(smsTopic, "arn:aws:sns:") {
		t.Fatalf("%s = %v", names.OutputTopicARNs, d.Outputs[names.OutputTopicARNs])
	}

	t.Run("contact item", func(t *testing.T) {
		out, err := c.DynamoDB.GetItem(t.Context(), &dynamodb.GetItemInput{
			TableName: aws.String(d.OutputString(names.OutputContactsTable)),
			Key:       map[string]ddbtypes.AttributeValue{names.AttrContactID: &ddbtypes.AttributeValueMemberS{Value: "C-1"}},
		})
		if err != nil {
			t.Fatal(err)
		}

		if got, _ := out.Item[names.AttrSMSTopicARN].(*ddbtypes.AttributeValueMemberS); got == nil || got.Value != smsTopic {
			t.Fatalf("%s = %#v, want the topic's ARN %s", names.AttrSMSTopicARN, out.Item[names.AttrSMSTopicARN], smsTopic)
		}
	})

	t.Run("idempotency TTL", func(t *testing.T) {
		ttl, err := c.DynamoDB.DescribeTimeToLive(t.Context(), &dynamodb.DescribeTimeToLiveInput{
			TableName: aws.String(d.OutputString(names.OutputIdempotencyTable)),
		})
		if err != nil {
			t.Fatal(err)
		}

		if got := aws.ToString(ttl.TimeToLiveDescription.AttributeName); got != names.AttrExpiration {
			t.Fatalf("TTL attribute %q, want %s", got, names.AttrExpiration)
		}
	})

	t.Run("sms subscription recorded, email one created", func(t *testing.T) {
		subs, err := c.SNS.ListSubscriptionsByTopic(t.Context(), &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(smsTopic)})
		if err != nil || len(subs.Subscriptions) != 0 {
			t.Fatalf("the sms topic's subscriptions in the emulator: %+v (%v), want none", subs, err)
		}

		emailTopic, _ := topics[stack.TopicKey("C-1", contact.ChannelEmail)].(string)

		subs, err = c.SNS.ListSubscriptionsByTopic(t.Context(), &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(emailTopic)})
		if err != nil || len(subs.Subscriptions) != 1 || aws.ToString(subs.Subscriptions[0].Protocol) != "email" {
			t.Fatalf("the email topic's subscriptions: %+v (%v), want the email one", subs, err)
		}
	})

	t.Run("functions recorded for lambdahost", func(t *testing.T) {
		var got []string

		for _, fn := range d.Functions {
			got = append(got, fn.Name)

			zipped, err := os.ReadFile(filepath.Join(artifacts, strings.TrimPrefix(fn.Name, "a2p-alerts-local-")+".zip"))
			if err != nil || string(fn.Zip) != string(zipped) {
				t.Errorf("%s: zip of %d bytes, not the artifact (%v)", fn.Name, len(fn.Zip), err)
			}

			if !fn.ActiveTracing || fn.Handler != "bootstrap" || fn.Timeout == 0 || fn.MemorySize == 0 {
				t.Errorf("%s: %+v", fn.Name, fn)
			}
		}

		want := []string{
			d.OutputString(names.OutputAuthorizerFunction), d.OutputString(names.OutputProcessorFunction), d.OutputString(names.OutputStatusFunction),
			d.OutputString(names.OutputWorkerFunction), d.OutputString(names.OutputDeadLetterFunction),
			d.OutputString(names.OutputAckFunction), d.OutputString(names.OutputEscalateFunction),
		}
		if slices.Sort(want); !slices.Equal(got, want) {
			t.Fatalf("functions %v, want %v", got, want)
		}

		for _, fn := range d.Functions {
			if fn.Name == d.OutputString(names.OutputProcessorFunction) && fn.Environment[names.EnvContactsTable] != d.OutputString(names.OutputContactsTable) {
				t.Errorf("processor environment %v lacks the contacts table", fn.Environment)
			}
		}
	})

	t.Run("event source mappings for the queue pollers", func(t *testing.T) {
		queues := map[string]string{
			d.OutputString(names.OutputWorkerFunction):     d.OutputString(names.OutputAlertQueueURL),
			d.OutputString(names.OutputDeadLetterFunction): d.OutputString(names.OutputDeadLetterQueueURL),
		}
		ms := d.Mappings()
		if len(ms) != len(queues) {
			t.Fatalf("mappings %+v, want one per queue", ms)
		}

		for _, m := range ms {
			if m.QueueURL != queues[m.Function] || m.QueueURL == "" || !m.ReportFailures || m.BatchSize != 10 {
				t.Errorf("mapping %+v, want %s's queue %s, batches of 10 reporting failures", m, m.Function, queues[m.Function])
			}
		}

		stored, err := c.Lambda.ListEventSourceMappings(t.Context(), &lambdasvc.ListEventSourceMappingsInput{})
		if err != nil || len(stored.EventSourceMappings) != len(queues) {
			t.Errorf("kumo holds %d mappings (%v), want %d", len(stored.EventSourceMappings), err, len(queues))
		}
	})
}

// TestDeployFailsLoudly: what the sandbox does not support stops the
// deploy, naming it, rather than being skipped.
func TestDeployFailsLoudly(t *testing.T) {
	t.Parallel()

	for _, tt := range []struct {
		name    string
		program func(*pulumi.Context) error
		want    string
	}{
		{"a resource type", func(ctx *pulumi.Context) error {
			_, err := sqs.NewRedriveAllowPolicy(ctx, "jobs", &sqs.RedriveAllowPolicyArgs{QueueUrl: pulumi.String("q"), RedriveAllowPolicy: pulumi.String("{}")})

			return err
		}, "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy"},
		{"an input", func(ctx *pulumi.Context) error {
			_, err := snsres.NewTopic(ctx, "orders", &snsres.TopicArgs{FifoTopic: pulumi.Bool(true)})

			return err
		}, `input "fifoTopic" of aws:sns/topic:Topic`},
		{"a provider function", func(ctx *pulumi.Context) error {
			_, err := awsindex.GetPartition(ctx, nil)

			return err
		}, "aws:index/getPartition:getPartition"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			_, err := Deploy(t.Context(), Options{Endpoint: kumo.Endpoint, Project: "a2p-alerts", Stack: "local"}, tt.program)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Deploy: %v; want an error naming %s", err, tt.want)
			}
		})
	}
}
