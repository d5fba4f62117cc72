package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// parseDynamoItem decodes an item in DynamoDB's JSON wire format
// ({"id":{"S":"x"},"n":{"N":"1"}}), the format of aws.dynamodb.TableItem's
// item input.
func parseDynamoItem(s string) (map[string]types.AttributeValue, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("item is not a JSON object: %w", err)
	}

	item := make(map[string]types.AttributeValue, len(raw))

	for name, r := range raw {
		av, err := parseAttributeValue(r)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", name, err)
		}

		item[name] = av
	}

	return item, nil
}

// parseAttributeValue decodes one {"<type>": value} attribute.
func parseAttributeValue(r json.RawMessage) (types.AttributeValue, error) {
	var typed map[string]json.RawMessage
	if err := json.Unmarshal(r, &typed); err != nil {
		return nil, fmt.Errorf("not a typed attribute value: %w", err)
	}

	if len(typed) != 1 {
		return nil, fmt.Errorf("want exactly one type key, got %d", len(typed))
	}

	for typ, v := range typed {
		return decodeTyped(typ, v)
	}

	return nil, nil //nolint:nilnil // unreachable: the map has exactly one entry
}

func decodeTyped(typ string, v json.RawMessage) (types.AttributeValue, error) {
	switch typ {
	case "S":
		var s string
		err := json.Unmarshal(v, &s)

		return &types.AttributeValueMemberS{Value: s}, wrapDecode(typ, err)
	case "N":
		var s string
		err := json.Unmarshal(v, &s)

		return &types.AttributeValueMemberN{Value: s}, wrapDecode(typ, err)
	case "B":
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, wrapDecode(typ, err)
		}

		b, err := base64.StdEncoding.DecodeString(s)

		return &types.AttributeValueMemberB{Value: b}, wrapDecode(typ, err)
	case "BOOL":
		var b bool
		err := json.Unmarshal(v, &b)

		return &types.AttributeValueMemberBOOL{Value: b}, wrapDecode(typ, err)
	case "NULL":
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case "SS":
		var ss []string
		err := json.Unmarshal(v, &ss)

		return &types.AttributeValueMemberSS{Value: ss}, wrapDecode(typ, err)
	case "NS":
		var ns []string
		err := json.Unmarshal(v, &ns)

		return &types.AttributeValueMemberNS{Value: ns}, wrapDecode(typ, err)
	case "BS":
		return decodeBinarySet(v)
	case "L":
		return decodeList(v)
	case "M":
		m, err := parseDynamoItem(string(v))

		return &types.AttributeValueMemberM{Value: m}, err
	default:
		return nil, fmt.Errorf("unknown attribute type %q", typ)
	}
}

func decodeBinarySet(v json.RawMessage) (types.AttributeValue, error) {
	var bs []string
	if err := json.Unmarshal(v, &bs); err != nil {
		return nil, wrapDecode("BS", err)
	}

	out := make([][]byte, 0, len(bs))

	for _, s := range bs {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, wrapDecode("BS", err)
		}

		out = append(out, b)
	}

	return &types.AttributeValueMemberBS{Value: out}, nil
}

func decodeList(v json.RawMessage) (types.AttributeValue, error) {
	var list []json.RawMessage

	dec := json.NewDecoder(bytes.NewReader(v))
	if err := dec.Decode(&list); err != nil {
		return nil, wrapDecode("L", err)
	}

	out := make([]types.AttributeValue, 0, len(list))

	for i, e := range list {
		av, err := parseAttributeValue(e)
		if err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}

		out = append(out, av)
	}

	return &types.AttributeValueMemberL{Value: out}, nil
}

func wrapDecode(typ string, err error) error {
	if err != nil {
		return fmt.Errorf("decode %s value: %w", typ, err)
	}

	return nil
}
