package stack

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// DataType is the type token of the Data component. (The Go name is
// Data, the token's Tables: the token is kept as first deployed, since
// renaming it would replace live resources.)
const DataType = "a2p:data:Tables"

// DynamoDB constants.
const (
	billingPayPerRequest = "PAY_PER_REQUEST"
	attrTypeString       = "S"
)

// DataArgs configures the Data component.
type DataArgs struct {
	// NamePrefix starts the tables' names: "<NamePrefix>-contacts" and
	// "<NamePrefix>-idempotency".
	NamePrefix string
	// Contacts become one item each in the contacts table.
	Contacts []ContactConfig
	// TopicARNs maps TopicKey(contact id, channel) to the topic's ARN,
	// for the items' sms_topic_arn and email_topic_arn.
	TopicARNs pulumi.StringMap
	// Protection "full" turns on point-in-time recovery, deletion
	// protection and retain-on-delete for every table, and
	// retain-on-delete for the contact items, which go with them, and the
	// longest deletion window for the alerts key.
	Protection Protection
	// Partition and AccountID name the account root, to which the alerts
	// key's policy delegates.
	Partition, AccountID string
	// AlertsKeyAlias names the alerts table's key, e.g.
	// "alias/a2p-alerts-dev-alerts".
	AlertsKeyAlias string
}

// Data holds the DynamoDB tables and the contact items.
type Data struct {
	pulumi.ResourceState

	// Contacts is the contacts table, keyed by names.AttrContactID.
	Contacts *dynamodb.Table
	// Idempotency is the idempotency table, keyed by
	// names.AttrIdempotencyKey, with TTL on names.AttrExpiration.
	Idempotency *dynamodb.Table
	// Items holds one contacts-table item per contact, by contact id.
	Items map[string]*dynamodb.TableItem
	// Alerts is the alerts table: partition key names.AttrPK, sort key
	// names.AttrSK, TTL on names.AttrExpiresAt, encrypted with AlertsKey.
	Alerts *dynamodb.Table
	// AlertsKey is the alerts table's customer-managed key (rotation on):
	// the alerts' content is kept there, so its use is logged in
	// CloudTrail apart from everything else, and only the roles that read
	// or write alerts may use it (through DynamoDB).
	AlertsKey *kms.Key
	// AlertsKeyAlias names AlertsKey.
	AlertsKeyAlias *kms.Alias
}

// NewData creates both tables and the contact items.
func NewData(ctx *pulumi.Context, name string, args *DataArgs, opts ...pulumi.ResourceOption) (*Data, error) {
	d := &Data{Items: map[string]*dynamodb.TableItem{}}
	if err := ctx.RegisterComponentResource(DataType, name, d, opts...); err != nil {
		return nil, fmt.Errorf("register %s: %w", name, err)
	}
	full := args.Protection.Full()
	tableOpts := []pulumi.ResourceOption{pulumi.Parent(d), pulumi.RetainOnDelete(full)}
	tableArgs := func(table, hashKey string) *dynamodb.TableArgs {
		return &dynamodb.TableArgs{
			Name:        pulumi.String(args.NamePrefix + "-" + table),
			Attributes:  dynamodb.TableAttributeArray{dynamodb.TableAttributeArgs{Name: pulumi.String(hashKey), Type: pulumi.String(attrTypeString)}},
			HashKey:     pulumi.String(hashKey),
			BillingMode: pulumi.String(billingPayPerRequest),
			// Encrypted at rest with the AWS managed key (aws/dynamodb).
			// Its key policy lets principals of the account use it through
			// DynamoDB, so the functions need no KMS permission for it.
			ServerSideEncryption:      dynamodb.TableServerSideEncryptionArgs{Enabled: pulumi.Bool(true)},
			PointInTimeRecovery:       dynamodb.TablePointInTimeRecoveryArgs{Enabled: pulumi.Bool(full)},
			DeletionProtectionEnabled: pulumi.Bool(full),
		}
	}

	var err error
	d.Contacts, err = dynamodb.NewTable(ctx, name+"-contacts", tableArgs("contacts", names.AttrContactID), tableOpts...)
	if err != nil {
		return nil, fmt.Errorf("create contacts table: %w", err)
	}
	idem := tableArgs("idempotency", names.AttrIdempotencyKey)
	idem.Ttl = dynamodb.TableTtlArgs{AttributeName: pulumi.String(names.AttrExpiration), Enabled: pulumi.Bool(true)}
	d.Idempotency, err = dynamodb.NewTable(ctx, name+"-idempotency", idem, tableOpts...)
	if err != nil {
		return nil, fmt.Errorf("create idempotency table: %w", err)
	}

	for _, c := range args.Contacts {
		if err := d.addItem(ctx, name, c, args, tableOpts); err != nil {
			return nil, err
		}
	}
	if err := d.addAlerts(ctx, name, args, tableArgs, tableOpts); err != nil {
		return nil, err
	}

	if err := ctx.RegisterResourceOutputs(d, pulumi.Map{
		"contactsTable":    d.Contacts.Name,
		"idempotencyTable": d.Idempotency.Name,
		"alertsTable":      d.Alerts.Name,
	}); err != nil {
		return nil, fmt.Errorf("register %s outputs: %w", name, err)
	}
	return d, nil
}

// addAlerts creates the alerts key and table. Items are never changed in
// place by more than one writer at a time: every change is a transaction
// conditioned on the state item's version (the processor's
// dynamo.AlertStore).
func (d *Data) addAlerts(ctx *pulumi.Context, name string, args *DataArgs,
	tableArgs func(table, hashKey string) *dynamodb.TableArgs, opts []pulumi.ResourceOption,
) error {
	root := fmt.Sprintf("arn:%s:iam::%s:root", args.Partition, args.AccountID)
	keyDoc, err := policy(Statement{
		Sid:       "AccountRootDelegation",
		Effect:    effectAllow,
		Principal: map[string]string{"AWS": root},
		Action:    []string{"kms:*"},
		Resource:  []string{"*"},
	}).JSON()
	if err != nil {
		return err
	}
	window := keyDeletionWindowDev
	if args.Protection.Full() {
		window = keyDeletionWindowProd
	}
	d.AlertsKey, err = kms.NewKey(ctx, name+"-alerts-key", &kms.KeyArgs{
		Description:          pulumi.Sprintf("%s: encrypts the alerts table (alert records, attempts, audit trail)", args.NamePrefix),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(window),
		Policy:               pulumi.String(keyDoc),
	}, pulumi.Parent(d), pulumi.RetainOnDelete(args.Protection.Full())) // a retained table is readable only while its key lives
	if err != nil {
		return fmt.Errorf("create alerts key: %w", err)
	}
	d.AlertsKeyAlias, err = kms.NewAlias(ctx, name+"-alerts-key-alias", &kms.AliasArgs{
		Name:        pulumi.String(args.AlertsKeyAlias),
		TargetKeyId: d.AlertsKey.KeyId,
	}, pulumi.Parent(d))
	if err != nil {
		return fmt.Errorf("create alerts key alias: %w", err)
	}
	alerts := tableArgs("alerts", names.AttrPK)
	alerts.Attributes = dynamodb.TableAttributeArray{
		dynamodb.TableAttributeArgs{Name: pulumi.String(names.AttrPK), Type: pulumi.String(attrTypeString)},
		dynamodb.TableAttributeArgs{Name: pulumi.String(names.AttrSK), Type: pulumi.String(attrTypeString)},
	}
	alerts.RangeKey = pulumi.String(names.AttrSK)
	alerts.Ttl = dynamodb.TableTtlArgs{AttributeName: pulumi.String(names.AttrExpiresAt), Enabled: pulumi.Bool(true)}
	alerts.ServerSideEncryption = dynamodb.TableServerSideEncryptionArgs{Enabled: pulumi.Bool(true), KmsKeyArn: d.AlertsKey.Arn}
	d.Alerts, err = dynamodb.NewTable(ctx, name+"-alerts", alerts, opts...)
	if err != nil {
		return fmt.Errorf("create alerts table: %w", err)
	}
	return nil
}

// addItem writes one contact's item. The item holds the contact's phone
// number, so it is a secret in the state; with full protection it is
// retained with its table.
func (d *Data) addItem(ctx *pulumi.Context, name string, c ContactConfig, args *DataArgs, opts []pulumi.ResourceOption) error {
	arns := pulumi.StringMap{}
	for _, tc := range topicChannels {
		if arn, ok := args.TopicARNs[TopicKey(c.ID, tc.channel)]; ok {
			arns[string(tc.channel)] = arn
		}
	}
	item := applyString(arns.ToStringMapOutput(), func(v map[string]string) (string, error) {
		return ContactItemJSON(c, v[string(contact.ChannelSMS)], v[string(contact.ChannelEmail)])
	})
	ti, err := dynamodb.NewTableItem(ctx, name+"-contact-"+c.ID, &dynamodb.TableItemArgs{
		TableName: d.Contacts.Name,
		HashKey:   pulumi.String(names.AttrContactID),
		Item:      secret(item),
	}, opts...)
	if err != nil {
		return fmt.Errorf("create contact item %s: %w", c.ID, err)
	}
	d.Items[c.ID] = ti
	return nil
}

// ContactItemJSON renders a contact as its contacts-table item in DynamoDB
// JSON ({"attr": {"S": "value"}}), through contact.Contact.Item so that the
// infra writes exactly what the processor reads. Empty ARNs are left out.
func ContactItemJSON(c ContactConfig, smsTopicARN, emailTopicARN string) (string, error) {
	item := contact.Contact{
		ID:            c.ID,
		Name:          c.Name,
		Preferences:   c.Preferences,
		CallPhone:     c.CallPhone,
		SMSTopicARN:   smsTopicARN,
		EmailTopicARN: emailTopicARN,
		SMSPhone:      c.SMSPhone,
		Secondary:     c.Secondary,
	}.Item()
	ddb := make(map[string]map[string]string, len(item))
	for k, v := range item {
		ddb[k] = map[string]string{attrTypeString: v}
	}
	b, err := json.Marshal(ddb)
	if err != nil {
		return "", fmt.Errorf("marshal contact item %s: %w", c.ID, err)
	}
	return string(b), nil
}
