using System.Text;
using EdgeProfile.Core.Customers;
using EdgeProfile.Core.Events;

namespace EdgeProfile.Core.Tests;

public sealed class PseudonymizerTests
{
    private static readonly byte[] KeyA = Encoding.ASCII.GetBytes("organisation-key-A-0123456789");
    private static readonly byte[] KeyB = Encoding.ASCII.GetBytes("organisation-key-B-0123456789");

    [Fact]
    public void Same_input_and_key_give_the_same_hash_in_every_instance()
    {
        var first = new Pseudonymizer(KeyA).Hash(CustomerKey.Email, "a@b.cn");
        var second = new Pseudonymizer((byte[])KeyA.Clone()).Hash(CustomerKey.Email, "a@b.cn");

        Assert.Equal(first, second);
        Assert.Equal(Pseudonymizer.HashHexLength, first.Length);
        Assert.True(Pseudonymizer.IsPseudonym(first));
        Assert.DoesNotContain("a@b.cn", first, StringComparison.Ordinal);
    }

    [Fact]
    public void Different_inputs_give_different_hashes()
    {
        var p = new Pseudonymizer(KeyA);

        Assert.NotEqual(p.Hash(CustomerKey.Email, "a@b.cn"), p.Hash(CustomerKey.Email, "b@b.cn"));
    }

    [Fact]
    public void Different_key_gives_a_different_hash()
    {
        Assert.NotEqual(new Pseudonymizer(KeyA).Hash(CustomerKey.Email, "a@b.cn"), new Pseudonymizer(KeyB).Hash(CustomerKey.Email, "a@b.cn"));
    }

    [Fact]
    public void The_kind_is_part_of_the_hash()
    {
        var p = new Pseudonymizer(KeyA);

        Assert.NotEqual(p.Hash(CustomerKey.Card, "12345"), p.Hash(CustomerKey.Phone, "12345"));
    }

    [Theory]
    [InlineData("A@B.CN")]
    [InlineData("  a@b.cn ")]
    [InlineData("\tA@b.Cn\n")]
    public void Email_is_normalised_for_case_and_whitespace(string variant)
    {
        var p = new Pseudonymizer(KeyA);

        Assert.Equal(p.Hash(CustomerKey.Email, "a@b.cn"), p.Hash(CustomerKey.Email, variant));
    }

    [Theory]
    [InlineData("+86 138 0000 0000")]
    [InlineData("+86-138-0000-0000")]
    [InlineData("+86 (138) 0000-0000")]
    public void Phone_is_normalised_to_digits_and_plus(string variant)
    {
        var p = new Pseudonymizer(KeyA);

        Assert.Equal(p.Hash(CustomerKey.Phone, "+8613800000000"), p.Hash(CustomerKey.Phone, variant));
    }

    [Fact]
    public void Key_shorter_than_16_bytes_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new Pseudonymizer(new byte[15]));
    }

    [Fact]
    public void Changing_the_callers_key_array_does_not_change_the_hashes()
    {
        var key = (byte[])KeyA.Clone();
        var p = new Pseudonymizer(key);
        var before = p.Hash(CustomerKey.Email, "a@b.cn");

        key[0] ^= 0xFF;

        Assert.Equal(before, p.Hash(CustomerKey.Email, "a@b.cn"));
    }

    [Fact]
    public void Canonical_hashes_a_raw_email_phone_or_card()
    {
        var p = new Pseudonymizer(KeyA);

        Assert.Equal(new CustomerKey(CustomerKey.Email, p.Hash(CustomerKey.Email, "a@b.cn")), p.Canonical(new CustomerKey(CustomerKey.Email, "A@B.cn")));
        Assert.Equal(new CustomerKey(CustomerKey.Phone, p.Hash(CustomerKey.Phone, "+8613800000000")), p.Canonical(new CustomerKey(CustomerKey.Phone, "+8613800000000")));
        Assert.Equal(new CustomerKey(CustomerKey.Card, p.Hash(CustomerKey.Card, "tok_9")), p.Canonical(new CustomerKey(CustomerKey.Card, "tok_9")));
    }

    [Fact]
    public void Canonical_keeps_a_value_that_already_is_a_pseudonym()
    {
        var p = new Pseudonymizer(KeyA);
        var hashed = new CustomerKey(CustomerKey.Email, p.Hash(CustomerKey.Email, "a@b.cn"));

        Assert.Equal(hashed, p.Canonical(hashed));
    }

    [Fact]
    public void Canonical_keeps_non_personal_keys_as_they_are()
    {
        var p = new Pseudonymizer(KeyA);

        Assert.Equal(new CustomerKey(CustomerKey.Loyalty, "L-1002"), p.Canonical(new CustomerKey(CustomerKey.Loyalty, "L-1002")));
        Assert.Equal(new CustomerKey(CustomerKey.App, "u-77"), p.Canonical(new CustomerKey(CustomerKey.App, "u-77")));
        Assert.Equal(new CustomerKey(CustomerKey.Device, "d-9"), p.Canonical(new CustomerKey(CustomerKey.Device, "d-9")));
        Assert.Equal(new CustomerKey(CustomerKey.Profile, "abc"), p.Canonical(new CustomerKey(CustomerKey.Profile, "abc")));
    }

    [Fact]
    public void Keys_of_a_customer_are_ordered_most_stable_first_and_personal_ones_are_hashed()
    {
        var p = new Pseudonymizer(KeyA);

        var keys = p.KeysOf(new CustomerIds("L-1002", "u-77", "a@b.cn", "+8613800000000", "tok_9"));

        Assert.Equal(
        [
            "loyalty:L-1002",
            "app:u-77",
            "card:" + p.Hash(CustomerKey.Card, "tok_9"),
            "email:" + p.Hash(CustomerKey.Email, "a@b.cn"),
            "phone:" + p.Hash(CustomerKey.Phone, "+8613800000000"),
        ], keys.Select(k => k.ToString()));
        Assert.DoesNotContain(keys, k => k.Value.Contains("a@b.cn", StringComparison.Ordinal) || k.Value.Contains("13800000000", StringComparison.Ordinal) || k.Value == "tok_9");
    }

    [Fact]
    public void Device_key_comes_after_every_other_key_and_is_not_pseudonymised()
    {
        var p = new Pseudonymizer(KeyA);

        var keys = p.KeysOf(new CustomerIds("L-1002", "u-77", "a@b.cn", "+8613800000000", "tok_9", "d-9"));

        Assert.Equal(6, keys.Count);
        Assert.Equal(new CustomerKey(CustomerKey.Device, "d-9"), keys[^1]);
        Assert.Equal(p.KeysOf(new CustomerIds("L-1002", "u-77", "a@b.cn", "+8613800000000", "tok_9")), keys.Take(5));
    }

    [Fact]
    public void Loyalty_and_device_keys_are_ordered_loyalty_then_device()
    {
        var p = new Pseudonymizer(KeyA);

        var keys = p.KeysOf(new CustomerIds("L-1002", null, null, null, null, "d-9"));

        Assert.Equal(["loyalty:L-1002", "device:d-9"], keys.Select(k => k.ToString()));
    }

    [Fact]
    public void Device_id_alone_is_the_primary_key()
    {
        var p = new Pseudonymizer(KeyA);

        var keys = p.KeysOf(new CustomerIds(null, null, null, null, null, "d-9"));

        Assert.Equal("device:d-9", Assert.Single(keys).ToString());
    }

    [Fact]
    public void Keys_of_a_customer_skip_absent_identifiers()
    {
        var p = new Pseudonymizer(KeyA);

        var keys = p.KeysOf(new CustomerIds(null, null, "a@b.cn", null, null));

        var only = Assert.Single(keys);
        Assert.Equal(CustomerKey.Email, only.Kind);
    }
}
