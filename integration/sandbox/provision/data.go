package provision

// Creators of the Data component's resources: the tables and the contact
// items.

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// createTable creates an on-demand table with a hash key and, when given,
// a range key, and turns on its TTL. serverSideEncryption (the key too)
// and pointInTimeRecovery are echoed only (see the package comment).
func createTable(ctx context.Context, p *Provisioner, name string, in props) (string, map[string]any, error) {
	name = autoName(in, name, 255)
	hashKey := in.str("hashKey")
	if billing := in.str("billingMode"); billing != "PAY_PER_REQUEST" {
		return "", nil, fmt.Errorf("billingMode %q: the sandbox creates on-demand (PAY_PER_REQUEST) tables only", billing)
	}
	input := &dynamodb.CreateTableInput{
		TableName:                 aws.String(name),
		BillingMode:               ddbtypes.BillingModePayPerRequest,
		KeySchema:                 []ddbtypes.KeySchemaElement{{AttributeName: aws.String(hashKey), KeyType: ddbtypes.KeyTypeHash}},
		DeletionProtectionEnabled: aws.Bool(in.flag("deletionProtectionEnabled")),
		Tags:                      pairs(in.strMap("tags"), func(k, v *string) ddbtypes.Tag { return ddbtypes.Tag{Key: k, Value: v} }),
	}
	if rangeKey := in.str("rangeKey"); rangeKey != "" {
		input.KeySchema = append(input.KeySchema, ddbtypes.KeySchemaElement{AttributeName: aws.String(rangeKey), KeyType: ddbtypes.KeyTypeRange})
	}
	for _, a := range in.objs("attributes") {
		input.AttributeDefinitions = append(input.AttributeDefinitions, ddbtypes.AttributeDefinition{
			AttributeName: aws.String(a.str("name")), AttributeType: ddbtypes.ScalarAttributeType(a.str("type")),
		})
	}
	out, err := p.clients.DynamoDB.CreateTable(ctx, input)
	if err != nil {
		return "", nil, fmt.Errorf("CreateTable %s: %w", name, err)
	}
	if ttl := in.obj("ttl"); ttl.flag("enabled") {
		if _, err := p.clients.DynamoDB.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
			TableName: aws.String(name),
			TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{
				AttributeName: aws.String(ttl.str("attributeName")), Enabled: aws.Bool(true),
			},
		}); err != nil {
			return "", nil, fmt.Errorf("UpdateTimeToLive %s: %w", name, err)
		}
	}
	return name, map[string]any{"arn": aws.ToString(out.TableDescription.TableArn), "name": name}, nil
}

// createTableItem writes an item given in DynamoDB JSON. The program's
// items hold string attributes only ({"attr": {"S": "value"}}); any other
// type fails.
func createTableItem(ctx context.Context, p *Provisioner, _ string, in props) (string, map[string]any, error) {
	table, hashKey := in.str("tableName"), in.str("hashKey")
	var raw map[string]map[string]string
	if err := json.Unmarshal([]byte(in.str("item")), &raw); err != nil {
		return "", nil, fmt.Errorf("item for table %s is not DynamoDB JSON of string attributes: %w", table, err)
	}
	item := make(map[string]ddbtypes.AttributeValue, len(raw))
	for attr, typed := range raw {
		s, ok := typed["S"]
		if !ok || len(typed) != 1 {
			return "", nil, fmt.Errorf("item for table %s: attribute %q is %v, want {\"S\": ...}", table, attr, typed)
		}
		item[attr] = &ddbtypes.AttributeValueMemberS{Value: s}
	}
	if _, err := p.clients.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		return "", nil, fmt.Errorf("PutItem into %s: %w", table, err)
	}
	return table + "|" + hashKey + "|" + raw[hashKey]["S"], nil, nil
}
