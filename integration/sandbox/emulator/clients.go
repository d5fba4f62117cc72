package emulator

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// DefaultRegion is the region used when a stack names none; kumo also
// hard-codes it in SNS, SQS and execute-api ARNs.
const DefaultRegion = "us-east-1"

// Account is the account id kumo answers from STS GetCallerIdentity and
// uses in every ARN except IAM's.
const Account = "000000000000"

// Static credentials; kumo accepts any.
const (
	AccessKeyID     = "test"
	SecretAccessKey = "test"
)

// Clients holds aws-sdk-go-v2 clients of the services the sandbox uses, all
// pointed at one endpoint with static test credentials.
type Clients struct {
	APIGateway *apigateway.Client
	CloudWatch *cloudwatch.Client
	Logs       *cloudwatchlogs.Client
	DynamoDB   *dynamodb.Client
	Events     *eventbridge.Client
	IAM        *iam.Client
	KMS        *kms.Client
	Lambda     *lambda.Client
	Scheduler  *scheduler.Client
	SNS        *sns.Client
	SQS        *sqs.Client
	STS        *sts.Client
}

// Config returns an SDK configuration for endpoint (such as an Emulator's
// Endpoint) in region, with static test credentials.
func Config(endpoint, region string) aws.Config {
	if region == "" {
		region = DefaultRegion
	}
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
		// kumo sends no CRC32 header on DynamoDB responses; without this
		// the SDK logs a warning on every call.
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
}

// NewClients returns clients for endpoint in region.
func NewClients(endpoint, region string) *Clients {
	cfg := Config(endpoint, region)
	return &Clients{
		APIGateway: apigateway.NewFromConfig(cfg),
		CloudWatch: cloudwatch.NewFromConfig(cfg),
		Logs:       cloudwatchlogs.NewFromConfig(cfg),
		DynamoDB: dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
			o.DisableValidateResponseChecksum = true
		}),
		Events:    eventbridge.NewFromConfig(cfg),
		IAM:       iam.NewFromConfig(cfg),
		KMS:       kms.NewFromConfig(cfg),
		Lambda:    lambda.NewFromConfig(cfg),
		Scheduler: scheduler.NewFromConfig(cfg),
		SNS:       sns.NewFromConfig(cfg),
		SQS:       sqs.NewFromConfig(cfg),
		STS:       sts.NewFromConfig(cfg),
	}
}
