package scheduler_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsscheduler "github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"github.com/a2p-alerts/a2p-alerts/services/processor/scheduler"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/escalation"
)

type fakeScheduler struct {
	created []*awsscheduler.CreateScheduleInput
	deleted []*awsscheduler.DeleteScheduleInput
	err     error
}

func (f *fakeScheduler) CreateSchedule(_ context.Context, in *awsscheduler.CreateScheduleInput, _ ...func(*awsscheduler.Options)) (*awsscheduler.CreateScheduleOutput, error) {
	f.created = append(f.created, in)
	return &awsscheduler.CreateScheduleOutput{}, f.err
}

func (f *fakeScheduler) DeleteSchedule(_ context.Context, in *awsscheduler.DeleteScheduleInput, _ ...func(*awsscheduler.Options)) (*awsscheduler.DeleteScheduleOutput, error) {
	f.deleted = append(f.deleted, in)
	return &awsscheduler.DeleteScheduleOutput{}, f.err
}

var (
	settings = scheduler.Settings{Group: "a2p-alerts-dev-escalation", TargetARN: "arn:aws:lambda:eu-west-2:1:function:esc", RoleARN: "arn:aws:iam::1:role/sch"}
	tm       = escalation.Timer{Key: alert.Key{Client: "ward", MessageID: "lab-1"}, Instance: "1796115600000-0a1b2c3d", Number: 2}
)

func TestSet(t *testing.T) {
	t.Parallel()
	f := &fakeScheduler{}
	s, err := scheduler.New(f, settings)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 9, 5, 0, 250e6, time.FixedZone("BST", 3600))
	if err := s.Set(t.Context(), tm, at); err != nil {
		t.Fatal(err)
	}
	in := f.created[0]
	if aws.ToString(in.Name) != tm.Name() || aws.ToString(in.GroupName) != settings.Group {
		t.Errorf("name %s in %s", aws.ToString(in.Name), aws.ToString(in.GroupName))
	}
	if got := aws.ToString(in.ScheduleExpression); got != "at(2026-12-01T08:05:01)" || aws.ToString(in.ScheduleExpressionTimezone) != "UTC" {
		t.Errorf("expression %s %s, want at() in UTC rounded up to the second", got, aws.ToString(in.ScheduleExpressionTimezone))
	}
	if in.ActionAfterCompletion != types.ActionAfterCompletionDelete || in.FlexibleTimeWindow.Mode != types.FlexibleTimeWindowModeOff {
		t.Errorf("action %s, window %s: want DELETE and OFF", in.ActionAfterCompletion, in.FlexibleTimeWindow.Mode)
	}
	if got, err := escalation.ParseTimer([]byte(aws.ToString(in.Target.Input))); err != nil || got != tm {
		t.Errorf("target input %s: %v", aws.ToString(in.Target.Input), err)
	}
	if aws.ToString(in.Target.Arn) != settings.TargetARN || aws.ToString(in.Target.RoleArn) != settings.RoleARN {
		t.Errorf("target %+v", in.Target)
	}
}

func TestExistingAndGoneSchedules(t *testing.T) {
	t.Parallel()
	f := &fakeScheduler{err: &types.ConflictException{Message: aws.String("exists")}}
	s, _ := scheduler.New(f, settings)
	if err := s.Set(t.Context(), tm, time.Now()); err != nil {
		t.Errorf("an existing schedule: %v, want set", err)
	}
	f.err = &types.ResourceNotFoundException{Message: aws.String("gone")}
	if err := s.Cancel(t.Context(), tm); err != nil || aws.ToString(f.deleted[0].Name) != tm.Name() {
		t.Errorf("a schedule that is gone: %v, want deleted", err)
	}
	f.err = errors.New("throttled")
	if s.Set(t.Context(), tm, time.Now()) == nil || s.Cancel(t.Context(), tm) == nil {
		t.Error("other errors were swallowed")
	}
	if _, err := scheduler.New(f, scheduler.Settings{Group: "g"}); err == nil {
		t.Error("New without a target")
	}
}
