using EdgeProfile.Core.Events;
using Google.Protobuf;
using V1 = EdgeProfile.Contracts.V1;

namespace EdgeProfile.Edge.Ingest;

/// <summary>Decodes a protobuf <c>edgeprofile.v1.Event</c> and validates it with the same rules as JSON.</summary>
public static class ProtobufEventReader
{
    /// <summary>Decodes and validates one protobuf message.</summary>
    public static DecodeResult Decode(ReadOnlyMemory<byte> payload, string? topicStoreId, EventValidator validator)
    {
        ArgumentNullException.ThrowIfNull(validator);
        if (JsonEventReader.CheckEnvelope(payload.Span) is { } bad)
        {
            return bad;
        }

        V1.Event pb;
        try
        {
            pb = V1.Event.Parser.ParseFrom(payload.Span);
        }
        catch (InvalidProtocolBufferException ex)
        {
            return DecodeResult.Invalid("message", $"not a valid protobuf edgeprofile.v1.Event ({ex.Message})");
        }

        var draft = new EventDraft
        {
            EventId = Blank(pb.EventId),
            Type = Blank(pb.Type),
            OccurredAt = Blank(pb.OccurredAt),
            StoreId = Blank(pb.StoreId),
            Channel = Blank(pb.Channel),
            Customer = pb.Customer is { } c
                ? new CustomerIds(Blank(c.LoyaltyId), Blank(c.AppUserId), Blank(c.Email), Blank(c.Phone), Blank(c.CardToken), Blank(c.DeviceId))
                : null,
            Product = pb.Product is { } p
                ? new ProductInfo(Pooled(p.Sku), Pooled(p.Name), Pooled(p.Category), p.HasPrice ? p.Price : null)
                : null,
            Quantity = pb.HasQuantity ? pb.Quantity : null,
            Amount = pb.HasAmount ? pb.Amount : null,
            Currency = Blank(pb.Currency),
            Text = Blank(pb.Text),
            Attributes = pb.Attributes.Count > 0 ? new Dictionary<string, string>(pb.Attributes, StringComparer.Ordinal) : null,
        };
        return validator.Validate(draft, topicStoreId);
    }

    private static string? Blank(string s) => string.IsNullOrWhiteSpace(s) ? null : s;

    // Catalogue values are shared across events (see ValuePool).
    private static string? Pooled(string s) => ValuePool.Shared.Intern(Blank(s));
}
