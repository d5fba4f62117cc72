package sandbox

// Creators for KMS, SNS, DynamoDB, IAM and CloudWatch Logs.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// Auto-name length limits of the AWS resources (Pulumi trims auto-names to
// them).
const (
	maxTopicName     = 256
	maxTableName     = 255
	maxRoleName      = 64
	maxPolicyName    = 128
	maxLogGroupName  = 512
	maxFunctionName  = 64
	maxStatementID   = 100
	maxAliasName     = 256
	maxGenericName   = 128
	defaultRoleLimit = 3600
)

func createKMSKey(ctx context.Context, p *Provisioner, _ *Resource, in props) (string, map[string]any, error) {
	input := &kms.CreateKeyInput{
		KeyUsage:                       kmstypes.KeyUsageType(orDefault(in.str("keyUsage"), "ENCRYPT_DECRYPT")),
		KeySpec:                        kmstypes.KeySpec(orDefault(in.str("customerMasterKeySpec"), "SYMMETRIC_DEFAULT")),
		MultiRegion:                    aws.Bool(in.flag("multiRegion")),
		BypassPolicyLockoutSafetyCheck: in.flag("bypassPolicyLockoutSafetyCheck"),
	}
	if d := in.str("description"); d != "" {
		input.Description = aws.String(d)
	}

	if pol := in.str("policy"); pol != "" {
		input.Policy = aws.String(pol)
	}

	tags := in.strMap("tags")
	for _, k := range sortedKeys(tags) {
		input.Tags = append(input.Tags, kmstypes.Tag{TagKey: aws.String(k), TagValue: aws.String(tags[k])})
	}

	out, err := p.clients.KMS.CreateKey(ctx, input)
	if err != nil {
		return "", nil, fmt.Errorf("CreateKey: %w", err)
	}

	keyID := aws.ToString(out.KeyMetadata.KeyId)

	// enableKeyRotation and deletionWindowInDays are echoed only: kumo has
	// no EnableKeyRotation, and nothing is deleted.
	return keyID, map[string]any{
		"arn":                   aws.ToString(out.KeyMetadata.Arn),
		"keyId":                 keyID,
		"isEnabled":             true,
		"keyUsage":              string(input.KeyUsage),
		"customerMasterKeySpec": string(input.KeySpec),
		"enableKeyRotation":     in.flag("enableKeyRotation"),
		"multiRegion":           in.flag("multiRegion"),
		"tagsAll":               tagsAll(in),
	}, nil
}

func createKMSAlias(ctx context.Context, p *Provisioner, rec *Resource, in props) (string, map[string]any, error) {
	name := in.str("name")
	if name == "" {
		prefix := orDefault(in.str("namePrefix"), "alias/"+rec.Name+"-")
		name = truncate(prefix+randomHex(26), maxAliasName)
	}

	target := in.str("targetKeyId")
	if target == "" {
		return "", nil, errMissing("targetKeyId")
	}

	if _, err := p.clients.KMS.CreateAlias(ctx, &kms.CreateAliasInput{
		AliasName:   aws.String(name),
		TargetKeyId: aws.String(target),
	}); err != nil {
		return "", nil, fmt.Errorf("CreateAlias: %w", err)
	}

	key, err := p.clients.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(target)})
	if err != nil {
		return "", nil, fmt.Errorf("DescribeKey %s: %w", target, err)
	}

	return name, map[string]any{
		"name":         name,
		"arn":          p.arn("kms", name),
		"targetKeyArn": aws.ToString(key.KeyMetadata.Arn),
	}, nil
}

// topicAttributes maps Topic inputs to SNS attribute names.
var topicAttributes = []struct{ input, attribute string }{
	{"displayName", "DisplayName"},
	{"policy", "Policy"},
	{"deliveryPolicy", "DeliveryPolicy"},
	{"kmsMasterKeyId", "KmsMasterKeyId"},
	{"signatureVersion", "SignatureVersion"},
	{"tracingConfig", "TracingConfig"},
	{"archivePolicy", "ArchivePolicy"},
	{"fifoThroughputScope", "FifoThroughputScope"},
}

func createTopic(ctx context.Context, p *Provisioner, rec *Resource, in props) (string, map[string]any, error) {
	fifo := in.flag("fifoTopic")

	name := in.str("name")
	if name == "" {
		suffixLen := 0
		if fifo {
			suffixLen = len(".fifo")
		}

		name = autoName(in, "name", rec.Name, maxTopicName-suffixLen)
		if fifo {
			name += ".fifo"
		}
	}

	attrs := map[string]string{}

	for _, a := range topicAttributes {
		if v := in.str(a.input); v != "" {
			attrs[a.attribute] = v
		}
	}

	if fifo {
		attrs["FifoTopic"] = "true"
		if in.flag("contentBasedDeduplication") {
			attrs["ContentBasedDeduplication"] = "true"
		}
	}

	input := &sns.CreateTopicInput{Name: aws.String(name)}
	if len(attrs) > 0 {
		input.Attributes = attrs
	}

	tags := in.strMap("tags")
	for _, k := range sortedKeys(tags) {
		input.Tags = append(input.Tags, snstypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}

	out, err := p.clients.SNS.CreateTopic(ctx, input)
	if err != nil {
		return "", nil, fmt.Errorf("CreateTopic %s: %w", name, err)
	}

	arn := aws.ToString(out.TopicArn)

	return arn, map[string]any{
		"arn":     arn,
		"name":    name,
		"owner":   p.account,
		"tagsAll": tagsAll(in),
	}, nil
}

func createTopicPolicy(ctx context.Context, p *Provisioner, _ *Resource, in props) (string, map[string]any, error) {
	arn, policy := in.str("arn"), in.str("policy")
	if arn == "" {
		return "", nil, errMissing("arn")
	}

	if _, err := p.clients.SNS.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{
		TopicArn:       aws.String(arn),
		AttributeName:  aws.String("Policy"),
		AttributeValue: aws.String(policy),
	}); err != nil {
		return "", nil, fmt.Errorf("SetTopicAttributes Policy on %s: %w", arn, err)
	}

	return arn, map[string]any{"owner": p.account}, nil
}

// subscriptionAttributes maps TopicSubscription inputs to SNS attributes.
var subscriptionAttributes = []struct{ input, attribute string }{
	{"filterPolicy", "FilterPolicy"},
	{"filterPolicyScope", "FilterPolicyScope"},
	{"deliveryPolicy", "DeliveryPolicy"},
	{"redrivePolicy", "RedrivePolicy"},
	{"subscriptionRoleArn", "SubscriptionRoleArn"},
	{"replayPolicy", "ReplayPolicy"},
}

func createTopicSubscription(ctx context.Context, p *Provisioner, _ *Resource, in props) (string, map[string]any, error) {
	topic, protocol := in.str("topic"), in.str("protocol")
	if topic == "" {
		return "", nil, errMissing("topic")
	}

	attrs := map[string]string{}
	if in.flag("rawMessageDelivery") {
		attrs["RawMessageDelivery"] = "true"
	}

	for _, a := range subscriptionAttributes {
		if v := in.str(a.input); v != "" {
			attrs[a.attribute] = v
		}
	}

	input := &sns.SubscribeInput{
		TopicArn:              aws.String(topic),
		Protocol:              aws.String(protocol),
		Endpoint:              aws.String(in.str("endpoint")),
		ReturnSubscriptionArn: true,
	}
	if len(attrs) > 0 {
		input.Attributes = attrs
	}

	out, err := p.clients.SNS.Subscribe(ctx, input)
	if err != nil {
		return "", nil, fmt.Errorf("Subscribe %s to %s: %w", protocol, topic, err)
	}

	arn := aws.ToString(out.SubscriptionArn)
	// On AWS, email and HTTP endpoints stay pending until confirmed.
	pending := protocol == "email" || protocol == "email-json" || protocol == "http" || protocol == "https"

	return arn, map[string]any{
		"arn":                          arn,
		"ownerId":                      p.account,
		"pendingConfirmation":          pending,
		"confirmationWasAuthenticated": false,
	}, nil
}

func createTable(ctx context.Context, p *Provisioner, rec *Resource, in props) (string, map[string]any, error) {
	name := autoName(in, "name", rec.Name, maxTableName)
	billing := orDefault(in.str("billingMode"), "PROVISIONED")

	input := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: ddbtypes.BillingMode(billing),
	}

	for _, a := range in.objs("attributes") {
		input.AttributeDefinitions = append(input.AttributeDefinitions, ddbtypes.AttributeDefinition{
			AttributeName: aws.String(a.str("name")),
			AttributeType: ddbtypes.ScalarAttributeType(a.str("type")),
		})
	}

	input.KeySchema = keySchema(in.str("hashKey"), in.str("rangeKey"))
	if billing == "PROVISIONED" {
		input.ProvisionedThroughput = throughput(in)
	}

	for _, g := range in.objs("globalSecondaryIndexes") {
		gsi := ddbtypes.GlobalSecondaryIndex{
			IndexName: aws.String(g.str("name")),
			KeySchema: keySchema(g.str("hashKey"), g.str("rangeKey")),
			Projection: &ddbtypes.Projection{
				ProjectionType:   ddbtypes.ProjectionType(g.str("projectionType")),
				NonKeyAttributes: g.strs("nonKeyAttributes"),
			},
		}
		if billing == "PROVISIONED" {
			gsi.ProvisionedThroughput = throughput(g)
		}

		input.GlobalSecondaryIndexes = append(input.GlobalSecondaryIndexes, gsi)
	}

	if sse := in.obj("serverSideEncryption"); sse != nil && sse.flag("enabled") {
		input.SSESpecification = &ddbtypes.SSESpecification{Enabled: aws.Bool(true), SSEType: ddbtypes.SSETypeKms}
		if k := sse.str("kmsKeyArn"); k != "" {
			input.SSESpecification.KMSMasterKeyId = aws.String(k)
		}
	}

	if in.has("deletionProtectionEnabled") {
		input.DeletionProtectionEnabled = aws.Bool(in.flag("deletionProtectionEnabled"))
	}

	if in.flag("streamEnabled") {
		input.StreamSpecification = &ddbtypes.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: ddbtypes.StreamViewType(in.str("streamViewType")),
		}
	}

	if tc := in.str("tableClass"); tc != "" {
		input.TableClass = ddbtypes.TableClass(tc)
	}

	tags := in.strMap("tags")
	for _, k := range sortedKeys(tags) {
		input.Tags = append(input.Tags, ddbtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}

	out, err := p.clients.DynamoDB.CreateTable(ctx, input)
	if err != nil {
		return "", nil, fmt.Errorf("CreateTable %s: %w", name, err)
	}

	if ttl := in.obj("ttl"); ttl != nil && ttl.flag("enabled") {
		if _, err := p.clients.DynamoDB.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
			TableName: aws.String(name),
			TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{
				AttributeName: aws.String(ttl.str("attributeName")),
				Enabled:       aws.Bool(true),
			},
		}); err != nil {
			return "", nil, fmt.Errorf("UpdateTimeToLive %s: %w", name, err)
		}
	}

	// pointInTimeRecovery is echoed only: kumo has no
	// UpdateContinuousBackups.
	outputs := map[string]any{
		"arn":         aws.ToString(out.TableDescription.TableArn),
		"name":        name,
		"billingMode": billing,
		"tagsAll":     tagsAll(in),
	}
	if in.flag("streamEnabled") {
		outputs["streamArn"] = aws.ToString(out.TableDescription.LatestStreamArn)
		outputs["streamLabel"] = aws.ToString(out.TableDescription.LatestStreamLabel)
	}

	return name, outputs, nil
}

func keySchema(hash, rangeKey string) []ddbtypes.KeySchemaElement {
	ks := []ddbtypes.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: ddbtypes.KeyTypeHash}}
	if rangeKey != "" {
		ks = append(ks, ddbtypes.KeySchemaElement{AttributeName: aws.String(rangeKey), KeyType: ddbtypes.KeyTypeRange})
	}

	return ks
}

func throughput(in props) *ddbtypes.ProvisionedThroughput {
	return &ddbtypes.ProvisionedThroughput{
		ReadCapacityUnits:  aws.Int64(int64(in.num("readCapacity", 1))),
		WriteCapacityUnits: aws.Int64(int64(in.num("writeCapacity", 1))),
	}
}

func createTableItem(ctx context.Context, p *Provisioner, _ *Resource, in props) (string, map[string]any, error) {
	table, hashKey := in.str("tableName"), in.str("hashKey")
	if table == "" {
		return "", nil, errMissing("tableName")
	}

	item, err := parseDynamoItem(in.str("item"))
	if err != nil {
		return "", nil, fmt.Errorf("item for table %s: %w", table, err)
	}

	if _, err := p.clients.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		return "", nil, fmt.Errorf("PutItem into %s: %w", table, err)
	}

	id := table + "|" + hashKey + "|" + keyString(item[hashKey])
	if rk := in.str("rangeKey"); rk != "" {
		id += "|" + rk + "|" + keyString(item[rk])
	}

	return id, map[string]any{}, nil
}

// keyString renders a key attribute for an id.
func keyString(av ddbtypes.AttributeValue) string {
	switch v := av.(type) {
	case *ddbtypes.AttributeValueMemberS:
		return v.Value
	case *ddbtypes.AttributeValueMemberN:
		return v.Value
	default:
		return fmt.Sprintf("%v", av)
	}
}

func createRole(ctx context.Context, p *Provisioner, rec *Resource, in props) (string, map[string]any, error) {
	name := autoName(in, "name", rec.Name, maxRoleName)
	path := orDefault(in.str("path"), "/")
	maxSession := in.int32("maxSessionDuration", defaultRoleLimit)

	input := &iam.CreateRoleInput{
		RoleName:                 aws.String(name),
		AssumeRolePolicyDocument: aws.String(in.str("assumeRolePolicy")),
		Path:                     aws.String(path),
		MaxSessionDuration:       aws.Int32(maxSession),
	}
	if d := in.str("description"); d != "" {
		input.Description = aws.String(d)
	}

	if b := in.str("permissionsBoundary"); b != "" {
		input.PermissionsBoundary = aws.String(b)
	}

	tags := in.strMap("tags")
	for _, k := range sortedKeys(tags) {
		input.Tags = append(input.Tags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}

	out, err := p.clients.IAM.CreateRole(ctx, input)
	if err != nil {
		return "", nil, fmt.Errorf("CreateRole %s: %w", name, err)
	}

	for _, pol := range in.objs("inlinePolicies") {
		if err := putRolePolicy(ctx, p, name, pol.str("name"), pol.str("policy")); err != nil {
			return "", nil, err
		}
	}

	for _, arn := range in.strs("managedPolicyArns") {
		// kumo knows no AWS-managed policy; attaching one fails there. It
		// is recorded in the role's inputs and not attached.
		if strings.HasPrefix(arn, "arn:aws:iam::aws:policy/") {
			continue
		}

		if _, err := p.clients.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{
			RoleName: aws.String(name), PolicyArn: aws.String(arn),
		}); err != nil {
			return "", nil, fmt.Errorf("AttachRolePolicy %s to %s: %w", arn, name, err)
		}
	}

	created := time.Now().UTC()
	if out.Role.CreateDate != nil {
		created = out.Role.CreateDate.UTC()
	}

	return name, map[string]any{
		"arn":                aws.ToString(out.Role.Arn),
		"name":               name,
		"uniqueId":           aws.ToString(out.Role.RoleId),
		"createDate":         created.Format(time.RFC3339),
		"path":               path,
		"maxSessionDuration": float64(maxSession),
		"tagsAll":            tagsAll(in),
	}, nil
}

func putRolePolicy(ctx context.Context, p *Provisioner, role, name, policy string) error {
	if _, err := p.clients.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName:       aws.String(role),
		PolicyName:     aws.String(name),
		PolicyDocument: aws.String(policy),
	}); err != nil {
		return fmt.Errorf("PutRolePolicy %s on %s: %w", name, role, err)
	}

	return nil
}

func createRolePolicy(ctx context.Context, p *Provisioner, rec *Resource, in props) (string, map[string]any, error) {
	role := in.str("role")
	if role == "" {
		return "", nil, errMissing("role")
	}

	name := autoName(in, "name", rec.Name, maxPolicyName)
	if err := putRolePolicy(ctx, p, role, name, in.str("policy")); err != nil {
		return "", nil, err
	}

	return role + ":" + name, map[string]any{"name": name}, nil
}

func createLogGroup(ctx context.Context, p *Provisioner, rec *Resource, in props) (string, map[string]any, error) {
	name := autoName(in, "name", rec.Name, maxLogGroupName)

	input := &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(name), Tags: in.strMap("tags")}
	if k := in.str("kmsKeyId"); k != "" {
		input.KmsKeyId = aws.String(k)
	}

	if _, err := p.clients.Logs.CreateLogGroup(ctx, input); err != nil {
		return "", nil, fmt.Errorf("CreateLogGroup %s: %w", name, err)
	}

	if days := in.int32("retentionInDays", 0); days > 0 {
		if _, err := p.clients.Logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{
			LogGroupName: aws.String(name), RetentionInDays: aws.Int32(days),
		}); err != nil {
			return "", nil, fmt.Errorf("PutRetentionPolicy %s: %w", name, err)
		}
	}

	return name, map[string]any{
		// The provider's arn drops the ":*" CloudWatch appends.
		"arn":           p.arn("logs", "log-group:"+name),
		"name":          name,
		"logGroupClass": orDefault(in.str("logGroupClass"), "STANDARD"),
		"tagsAll":       tagsAll(in),
	}, nil
}

// tagsAll is the provider's tagsAll: the resource's tags (no default tags
// are configured in the sandbox).
func tagsAll(in props) map[string]any {
	out := map[string]any{}
	for k, v := range in.strMap("tags") {
		out[k] = v
	}

	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}

	return s
}
