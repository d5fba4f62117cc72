package sandbox

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// defaultRegion is the region used when the stack configuration names none.
// It is also the region kumo hard-codes in SNS, SQS and execute-api ARNs.
const defaultRegion = "us-east-1"

// emulatorAccount is the account id kumo uses in every ARN except IAM's
// (IAM uses 123456789012) and answers from STS GetCallerIdentity.
const emulatorAccount = "000000000000"

// Static credentials for the emulator; kumo accepts any.
const (
	testAccessKeyID     = "test"
	testSecretAccessKey = "test"
)

// Clients holds aws-sdk-go-v2 clients pointed at one endpoint with static
// test credentials.
type Clients struct {
	// Config is the shared configuration: region, credentials and
	// BaseEndpoint.
	Config aws.Config

	APIGateway *apigateway.Client
	Logs       *cloudwatchlogs.Client
	DynamoDB   *dynamodb.Client
	IAM        *iam.Client
	KMS        *kms.Client
	Lambda     *lambda.Client
	SNS        *sns.Client
	SQS        *sqs.Client
	STS        *sts.Client
}

// AWSConfig returns an SDK configuration for endpoint (such as an
// Emulator's Endpoint) in region, with static test/test credentials.
func AWSConfig(endpoint, region string) aws.Config {
	if region == "" {
		region = defaultRegion
	}

	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(testAccessKeyID, testSecretAccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
		// kumo sends no CRC32 header on DynamoDB responses; without this
		// the SDK logs a warning on every call.
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
}

// NewClients returns clients for every service the sandbox provisions.
func NewClients(endpoint, region string) *Clients {
	cfg := AWSConfig(endpoint, region)

	return &Clients{
		Config:     cfg,
		APIGateway: apigateway.NewFromConfig(cfg),
		Logs:       cloudwatchlogs.NewFromConfig(cfg),
		DynamoDB: dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
			o.DisableValidateResponseChecksum = true
		}),
		IAM:    iam.NewFromConfig(cfg),
		KMS:    kms.NewFromConfig(cfg),
		Lambda: lambda.NewFromConfig(cfg),
		SNS:    sns.NewFromConfig(cfg),
		SQS:    sqs.NewFromConfig(cfg),
		STS:    sts.NewFromConfig(cfg),
	}
}
