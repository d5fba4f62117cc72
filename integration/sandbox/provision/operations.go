package provision

// Creator of the Alarms component's alarms. The operations topic is a
// topic like the contacts' (messaging.go); the log metric filter is on
// NotEmulated.

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// createMetricAlarm stores the alarm in kumo (see the package comment);
// treatMissingData is echoed only.
func createMetricAlarm(ctx context.Context, p *Provisioner, name string, in props) (string, map[string]any, error) {
	name = autoName(in, name, 255)
	if _, err := p.clients.CloudWatch.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName:          aws.String(name),
		AlarmDescription:   aws.String(in.str("alarmDescription")),
		Namespace:          aws.String(in.str("namespace")),
		MetricName:         aws.String(in.str("metricName")),
		Statistic:          cwtypes.Statistic(in.str("statistic")),
		Period:             aws.Int32(in.int32("period", 60)),
		EvaluationPeriods:  aws.Int32(in.int32("evaluationPeriods", 1)),
		Threshold:          aws.Float64(in.num("threshold", 0)),
		ComparisonOperator: cwtypes.ComparisonOperator(in.str("comparisonOperator")),
		TreatMissingData:   aws.String(in.str("treatMissingData")),
		ActionsEnabled:     aws.Bool(in.flag("actionsEnabled")),
		AlarmActions:       in.strs("alarmActions"),
		OKActions:          in.strs("okActions"),
		Dimensions:         pairs(in.strMap("dimensions"), func(k, v *string) cwtypes.Dimension { return cwtypes.Dimension{Name: k, Value: v} }),
		Tags:               pairs(in.strMap("tags"), func(k, v *string) cwtypes.Tag { return cwtypes.Tag{Key: k, Value: v} }),
	}); err != nil {
		return "", nil, fmt.Errorf("PutMetricAlarm %s: %w", name, err)
	}
	return name, map[string]any{"arn": p.arn("cloudwatch", "alarm:"+name)}, nil
}
