using System.Text;
using EdgeProfile.Core.Events;

namespace EdgeProfile.Core.Tests;

/// <summary>Catalogue values are shared across events (one string per distinct value), within bounds.</summary>
public sealed class ValuePoolTests
{
    [Fact]
    public void Equal_values_come_back_as_one_instance_from_strings_and_from_spans()
    {
        var pool = new ValuePool(capacity: 10);
        var first = pool.Intern(new string("SKU-1".ToCharArray()));
        var second = pool.Intern(new string("SKU-1".ToCharArray()));
        var fromSpan = pool.Intern("xSKU-1x".AsSpan(1, 5));
        Assert.Same(first, second);
        Assert.Same(first, fromSpan);
        Assert.Null(pool.Intern((string?)null));
        Assert.Equal(1, pool.Count);
    }

    [Fact]
    public void A_full_pool_and_long_values_return_equal_strings_unshared()
    {
        var pool = new ValuePool(capacity: 2);
        pool.Intern("a");
        pool.Intern("b");
        var c1 = pool.Intern(new string('c', 1));
        var c2 = pool.Intern("c".AsSpan());
        Assert.Equal("c", c1);
        Assert.Equal("c", c2);
        Assert.NotSame(c1, c2);
        Assert.Equal(2, pool.Count);

        var longValue = new string('x', ValuePool.MaxLength + 1);
        Assert.NotSame(pool.Intern(longValue.AsSpan()), pool.Intern(longValue.AsSpan()));
        Assert.Equal(longValue, pool.Intern(longValue));
    }

    [Fact]
    public void Events_decoded_from_json_share_their_product_strings_and_keep_escapes()
    {
        var validator = new EventValidator(TimeProvider.System, TimeSpan.FromMinutes(10));
        CustomerEvent Decode(string id, string sku) => JsonEventReader.Decode(Encoding.UTF8.GetBytes(
            $$$"""{"eventId":"{{{id}}}","type":"view","occurredAt":"{{{DateTimeOffset.UtcNow.AddMinutes(-1):O}}}","storeId":"s-1","channel":"app","customer":{"loyaltyId":"L-1"},"product":{"sku":"{{{sku}}}","name":"Stroller \u00e9 \"X\"","category":"Baby > Strollers"}}"""),
            null, validator).Event ?? throw new InvalidOperationException("not decoded");
        var a = Decode("e-1", "SKU-77");
        var b = Decode("e-2", "SKU-77");
        Assert.Same(a.Product!.Sku, b.Product!.Sku);
        Assert.Same(a.Product.Category, b.Product.Category);
        Assert.Same(a.Product.Name, b.Product.Name);
        Assert.Equal("Stroller é \"X\"", a.Product.Name);
        Assert.NotSame(a.EventId, b.EventId);
    }
}
