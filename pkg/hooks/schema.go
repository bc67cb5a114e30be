package hooks

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TTLAttribute is the table's time-to-live attribute (epoch seconds).
const TTLAttribute = attrExpiresAt

// TableDefinition is the table this package needs, as CreateTable takes it
// (on-demand billing). template.yaml declares the same table for AWS; the
// local stack and the tests create it with this. Enable TTL on
// TTLAttribute after creating it.
func TableDefinition(name string) *dynamodb.CreateTableInput {
	str := types.ScalarAttributeTypeS
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrPK), AttributeType: str},
			{AttributeName: aws.String(attrSK), AttributeType: str},
			{AttributeName: aws.String(attrExec), AttributeType: str},
			{AttributeName: aws.String(attrSMShard), AttributeType: str},
			{AttributeName: aws.String(attrSMSort), AttributeType: str},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:  aws.String(IndexByExecution),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String(attrExec), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}, {
			IndexName: aws.String(IndexByStateMachine),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(attrSMShard), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(attrSMSort), KeyType: types.KeyTypeRange},
			},
			// Keys and tags: the tags are set once per incarnation, so the
			// index is written when a hook is created, tagged and deleted,
			// never by a resume or an await (docs/operators.md).
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{attrTags}},
		}},
	}
}
