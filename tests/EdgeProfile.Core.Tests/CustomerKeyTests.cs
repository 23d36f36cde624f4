using EdgeProfile.Core.Customers;

namespace EdgeProfile.Core.Tests;

public sealed class CustomerKeyTests
{
    [Theory]
    [InlineData("loyalty:L-1002", "loyalty", "L-1002")]
    [InlineData("app:u-77", "app", "u-77")]
    [InlineData("email:0123456789abcdef0123456789abcdef", "email", "0123456789abcdef0123456789abcdef")]
    [InlineData("email:a@b.cn", "email", "a@b.cn")]
    [InlineData("phone:+8613800000000", "phone", "+8613800000000")]
    [InlineData("card:tok_9", "card", "tok_9")]
    [InlineData("ep:42", "ep", "42")]
    [InlineData("device:d-9", "device", "d-9")]
    [InlineData("loyalty:a:b", "loyalty", "a:b")]
    public void Good_keys_parse_into_kind_and_value(string text, string kind, string value)
    {
        Assert.True(CustomerKey.TryParse(text, out var key));
        Assert.Equal(kind, key.Kind);
        Assert.Equal(value, key.Value);
        Assert.Equal(text, key.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("loyalty")]
    [InlineData("loyalty:")]
    [InlineData(":L-1002")]
    [InlineData("member:L-1002")]
    [InlineData("LOYALTY:L-1002")]
    [InlineData("device:")]
    [InlineData("devices:d-9")]
    [InlineData("L-1002")]
    public void Bad_keys_do_not_parse(string? text)
    {
        Assert.False(CustomerKey.TryParse(text, out var key));
        Assert.Equal(default, key);
    }

    [Fact]
    public void Kind_list_names_every_kind()
    {
        foreach (var kind in new[] { "loyalty", "app", "email", "phone", "card", "ep", "device" })
        {
            Assert.Contains(kind, CustomerKey.KindList, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Kind_list_keeps_the_v1_kinds_first_so_quoted_error_messages_stay_as_they_were()
    {
        Assert.StartsWith("loyalty, app, email, phone, card, ep", CustomerKey.KindList, StringComparison.Ordinal);
    }
}
