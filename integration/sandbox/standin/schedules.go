package standin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedulertypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
)

// ErrNoSchedule reports a schedule that does not exist (it ran, or was
// deleted, or was never made).
var ErrNoSchedule = errors.New("no such schedule")

// ScheduleFirer is TEST CODE standing in for EventBridge Scheduler's
// firing, which kumo lacks (it stores schedules and never runs them). For
// a one-time at() schedule of the group it waits for the schedule's time,
// invokes its target Lambda function with its input (synchronously,
// where Scheduler invokes asynchronously: the caller learns the answer),
// and deletes it, as ActionAfterCompletion DELETE does.
type ScheduleFirer struct {
	scheduler *scheduler.Client
	lambda    *lambda.Client
	group     string
}

// NewScheduleFirer fires the schedules of group.
func NewScheduleFirer(s *scheduler.Client, l *lambda.Client, group string) *ScheduleFirer {
	return &ScheduleFirer{scheduler: s, lambda: l, group: group}
}

// Due reads the schedule name: when it is due, its target and input. It
// returns ErrNoSchedule when there is none.
func (f *ScheduleFirer) Due(ctx context.Context, name string) (at time.Time, target, input string, err error) {
	out, err := f.scheduler.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: aws.String(name), GroupName: aws.String(f.group)})
	var missing *schedulertypes.ResourceNotFoundException
	if errors.As(err, &missing) {
		return at, "", "", fmt.Errorf("schedule %s: %w", name, ErrNoSchedule)
	} else if err != nil {
		return at, "", "", fmt.Errorf("get schedule %s: %w", name, err)
	}
	at, err = time.Parse("at(2006-01-02T15:04:05)", aws.ToString(out.ScheduleExpression))
	if err != nil || out.Target == nil {
		return at, "", "", fmt.Errorf("schedule %s is not a one-time at() schedule with a target: %s", name, aws.ToString(out.ScheduleExpression))
	}
	return at, aws.ToString(out.Target.Arn), aws.ToString(out.Target.Input), nil
}

// Fire runs the schedule name once it is due. It returns ErrNoSchedule
// when there is none.
func (f *ScheduleFirer) Fire(ctx context.Context, name string) (string, error) {
	at, target, input, err := f.Due(ctx, name)
	if err != nil {
		return "", err
	}
	select { // the schedule's own time, as Scheduler keeps it (whole seconds, UTC)
	case <-ctx.Done():
		return "", fmt.Errorf("schedule %s due at %s: %w", name, at, ctx.Err())
	case <-time.After(time.Until(at)):
	}
	answer, err := f.Invoke(ctx, target, input)
	if err != nil {
		return "", err
	}
	var missing *schedulertypes.ResourceNotFoundException
	if _, err := f.scheduler.DeleteSchedule(ctx, &scheduler.DeleteScheduleInput{Name: aws.String(name), GroupName: aws.String(f.group)}); err != nil &&
		!errors.As(err, &missing) { // the target may have deleted it itself
		return answer, fmt.Errorf("delete schedule %s: %w", name, err)
	}
	return answer, nil
}

// Invoke invokes a schedule's target with its input, as Scheduler does
// (a test also uses it to deliver a timer twice).
func (f *ScheduleFirer) Invoke(ctx context.Context, targetARN, input string) (string, error) {
	name := targetARN[strings.LastIndex(targetARN, ":")+1:]
	out, err := f.lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(input)})
	if err != nil {
		return "", fmt.Errorf("invoke %s: %w", name, err)
	}
	if out.FunctionError != nil {
		return string(out.Payload), fmt.Errorf("%s failed (%s): %s", name, aws.ToString(out.FunctionError), out.Payload)
	}
	return string(out.Payload), nil
}

// runPoll is how often Run looks for schedules.
const runPoll = 250 * time.Millisecond

// Run fires each schedule of the group when it is due, until ctx ends
// (make dev and make demo; tests fire schedules themselves). Errors go to
// report.
func (f *ScheduleFirer) Run(ctx context.Context, report func(error)) {
	firing := map[string]bool{}
	done := make(chan string)
	for {
		out, err := f.scheduler.ListSchedules(ctx, &scheduler.ListSchedulesInput{GroupName: aws.String(f.group)})
		if err != nil && ctx.Err() == nil {
			report(fmt.Errorf("list schedules: %w", err))
		}
		for _, s := range outSchedules(out) {
			if name := aws.ToString(s.Name); aws.ToString(s.GroupName) == f.group && !firing[name] {
				firing[name] = true
				go func() {
					if _, err := f.Fire(ctx, name); err != nil && ctx.Err() == nil {
						report(err)
					}
					select {
					case done <- name:
					case <-ctx.Done():
					}
				}()
			}
		}
		select {
		case <-ctx.Done():
			return
		case name := <-done:
			delete(firing, name)
		case <-time.After(runPoll):
		}
	}
}

func outSchedules(out *scheduler.ListSchedulesOutput) []schedulertypes.ScheduleSummary {
	if out == nil {
		return nil
	}
	return out.Schedules
}
