// Package scheduler keeps escalation timers as Amazon EventBridge
// Scheduler one-time schedules: one schedule per pending timer of an
// alert, named by escalation.Timer.Name in the stack's schedule group,
// at(...) the timer's time in UTC, targeting the escalate function with
// the timer as its input, deleted by Scheduler once it has run
// (ActionAfterCompletion DELETE). It implements alerting.Timers.
//
// The schedules are made at run time with the AWS SDK: pulumi-aws v6 has
// no ActionAfterCompletion, and there is one schedule per alert and
// stage. The stack creates the group and the role Scheduler invokes the
// function with.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsscheduler "github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/shared/escalation"
)

// API is the part of the Scheduler client that Timers uses.
type API interface {
	// CreateSchedule creates one schedule.
	CreateSchedule(ctx context.Context, in *awsscheduler.CreateScheduleInput, optFns ...func(*awsscheduler.Options)) (*awsscheduler.CreateScheduleOutput, error)
	// DeleteSchedule deletes one schedule.
	DeleteSchedule(ctx context.Context, in *awsscheduler.DeleteScheduleInput, optFns ...func(*awsscheduler.Options)) (*awsscheduler.DeleteScheduleOutput, error)
}

var _ API = (*awsscheduler.Client)(nil)

// Settings say where the schedules go and what they invoke.
type Settings struct {
	// Group is the schedule group.
	Group string
	// TargetARN is the escalate function's ARN.
	TargetARN string
	// RoleARN is the role Scheduler invokes it with.
	RoleARN string
}

// Validate reports a missing setting.
func (s Settings) Validate() error {
	if s.Group == "" || s.TargetARN == "" || s.RoleARN == "" {
		return fmt.Errorf("scheduler: the schedule group, the escalate function's ARN and the scheduler's role are all required, got %+v", s)
	}
	return nil
}

// Timers creates and deletes the schedules.
type Timers struct {
	client   API
	settings Settings
}

var _ alerting.Timers = (*Timers)(nil)

// New returns Timers creating schedules through client.
func New(client API, s Settings) (*Timers, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &Timers{client: client, settings: s}, nil
}

// Retry policy of a schedule's invocation: a failed escalate run (its
// table unreadable) is retried for up to an hour; a retry that finds the
// stage done does nothing.
const (
	maxEventAge     = int32(3600)
	maxRetries      = int32(10)
	atLayout        = "2006-01-02T15:04:05"
	scheduleTimeUTC = "UTC"
)

// Expression is the one-time schedule expression for t, rounded up to
// the next whole second (Scheduler's resolution), in UTC.
func Expression(t time.Time) string {
	t = t.UTC()
	if t.Truncate(time.Second) != t {
		t = t.Truncate(time.Second).Add(time.Second)
	}
	return "at(" + t.Format(atLayout) + ")"
}

// Set creates timer t's schedule, due at at. A schedule of that name that
// exists already (a retried run) counts as set.
func (s *Timers) Set(ctx context.Context, t escalation.Timer, at time.Time) error {
	_, err := s.client.CreateSchedule(ctx, &awsscheduler.CreateScheduleInput{
		Name:                       aws.String(t.Name()),
		GroupName:                  aws.String(s.settings.Group),
		ScheduleExpression:         aws.String(Expression(at)),
		ScheduleExpressionTimezone: aws.String(scheduleTimeUTC),
		FlexibleTimeWindow:         &types.FlexibleTimeWindow{Mode: types.FlexibleTimeWindowModeOff},
		ActionAfterCompletion:      types.ActionAfterCompletionDelete,
		Description:                aws.String(fmt.Sprintf("a2p-alerts escalation timer %d", t.Number)),
		Target: &types.Target{
			Arn:         aws.String(s.settings.TargetARN),
			RoleArn:     aws.String(s.settings.RoleARN),
			Input:       aws.String(t.Input()),
			RetryPolicy: &types.RetryPolicy{MaximumEventAgeInSeconds: aws.Int32(maxEventAge), MaximumRetryAttempts: aws.Int32(maxRetries)},
		},
	})
	var conflict *types.ConflictException
	if err != nil && !errors.As(err, &conflict) {
		return fmt.Errorf("create schedule %s: %w", t.Name(), err)
	}
	return nil
}

// Cancel deletes timer t's schedule; one that is gone already (it ran, or
// was never made) counts as deleted.
func (s *Timers) Cancel(ctx context.Context, t escalation.Timer) error {
	_, err := s.client.DeleteSchedule(ctx, &awsscheduler.DeleteScheduleInput{
		Name: aws.String(t.Name()), GroupName: aws.String(s.settings.Group),
	})
	var gone *types.ResourceNotFoundException
	if err != nil && !errors.As(err, &gone) {
		return fmt.Errorf("delete schedule %s: %w", t.Name(), err)
	}
	return nil
}
