using EdgeProfile.Core.Events;
using EdgeProfile.Edge.Ingest;
using Google.Protobuf;
using V1 = EdgeProfile.Contracts.V1;

namespace EdgeProfile.Edge.Tests;

public sealed class ProtobufEventReaderTests
{
    private static readonly EventValidator Validator = new(TimeProvider.System, TimeSpan.FromMinutes(10));

    private static DecodeResult Decode(V1.Event e) => ProtobufEventReader.Decode(e.ToByteArray(), EdgeHost.StoreId, Validator);

    [Fact]
    public void Customer_field_numbers_of_v1_are_kept_and_device_id_is_the_next_one()
    {
        Assert.Equal(
            [1, 2, 3, 4, 5, 6],
            [
                V1.Customer.LoyaltyIdFieldNumber, V1.Customer.AppUserIdFieldNumber, V1.Customer.EmailFieldNumber,
                V1.Customer.PhoneFieldNumber, V1.Customer.CardTokenFieldNumber, V1.Customer.DeviceIdFieldNumber,
            ]);
    }

    [Fact]
    public void Device_id_is_read_next_to_the_other_identifiers()
    {
        var e = TestEvents.Proto("pb-dev-1", "L-1002");
        e.Customer.AppUserId = "u-77";
        e.Customer.DeviceId = "d-9";

        var result = Decode(e);

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(new CustomerIds("L-1002", "u-77", null, null, null, "d-9"), result.Event!.Customer);
    }

    [Fact]
    public void Event_without_device_id_reads_as_before()
    {
        var result = Decode(TestEvents.Proto("pb-dev-2", "L-1002"));

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(new CustomerIds("L-1002", null, null, null, null), result.Event!.Customer);
    }

    [Fact]
    public void Customer_with_only_a_device_id_is_accepted()
    {
        var e = TestEvents.Proto("pb-dev-3");
        e.Customer = new V1.Customer { DeviceId = "d-9" };

        var result = Decode(e);

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(new CustomerIds(null, null, null, null, null, "d-9"), result.Event!.Customer);
    }

    [Fact]
    public void Blank_device_id_is_no_identifier()
    {
        var e = TestEvents.Proto("pb-dev-4");
        e.Customer = new V1.Customer { DeviceId = " " };

        var result = Decode(e);

        Assert.False(result.IsValid);
        Assert.Equal("customer", result.Field);
    }

    [Fact]
    public void Overlong_device_id_is_rejected_naming_it()
    {
        var e = TestEvents.Proto("pb-dev-5");
        e.Customer.DeviceId = new string('d', EventLimits.MaxIdentifierLength + 1);

        var result = Decode(e);

        Assert.False(result.IsValid);
        Assert.Equal("customer.deviceId", result.Field);
        Assert.StartsWith("customer.deviceId:", result.Reason, StringComparison.Ordinal);
    }
}
