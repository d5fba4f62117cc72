package integration

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/observe"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// TestAlarmsNotifyTheOperationsTopic drives each of the stack's alarms
// into ALARM and back to OK in the emulator (kumo evaluates no metric, so
// the state is set by hand) and checks that each transition reaches the
// operations topic, the stack output operators subscribe to: the alarms'
// actions are wired to the topic the program exports.
func TestAlarmsNotifyTheOperationsTopic(t *testing.T) {
	t.Parallel()

	env := tgt.needSandbox(t, "setting alarm states, which would page a real deployment's operators,")
	tap := tgt.needTap(t)

	topicARN := env.Deployment.OutputString(names.OutputOperationsTopicARN)
	if topicARN == "" {
		t.Fatalf("no %s output", names.OutputOperationsTopicARN)
	}

	alarms := env.Deployment.ByType("aws:cloudwatch/metricAlarm:MetricAlarm")
	if len(alarms) < 8 {
		t.Fatalf("the stack deployed %d alarms, want the API's, each function's, each topic's and the log alarm", len(alarms))
	}

	for _, a := range alarms {
		name := a.Output("name")
		for _, state := range []cwtypes.StateValue{cwtypes.StateValueAlarm, cwtypes.StateValueOk} {
			if _, err := env.Clients.CloudWatch.SetAlarmState(waitCtx(t), &cloudwatch.SetAlarmStateInput{
				AlarmName: aws.String(name), StateValue: state, StateReason: aws.String("integration test"),
			}); err != nil {
				t.Fatalf("SetAlarmState %s %s: %v", name, state, err)
			}

			if _, err := tap.WaitFor(waitCtx(t), 1, func(d observe.Delivery) bool {
				return d.TopicARN == topicARN && strings.Contains(d.Message, name) && strings.Contains(d.Message, string(state))
			}); err != nil {
				t.Errorf("alarm %s, state %s: no notification on the operations topic: %v", name, state, err)
			}
		}
	}
}
