using System.Security.Cryptography;
using System.Text;
using EdgeProfile.Core.Events;

namespace EdgeProfile.Core.Customers;

/// <summary>
/// Turns personal identifiers (email, phone, card token) into keyed HMAC-SHA256 pseudonyms with the organisation's
/// key, so that the same person hashes alike in every store and the raw value never leaves the edge.
/// </summary>
public sealed class Pseudonymizer
{
    /// <summary>Length of a pseudonym in hex characters (128 bits).</summary>
    public const int HashHexLength = 32;

    [ThreadStatic]
    private static IncrementalHash? t_hmac;

    [ThreadStatic]
    private static Pseudonymizer? t_hmacOwner;

    private readonly byte[] _key;

    /// <summary>Creates a pseudonymizer with a key of at least 16 bytes.</summary>
    public Pseudonymizer(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length < 16)
        {
            throw new ArgumentException("The pseudonymisation key must be at least 16 bytes.", nameof(key));
        }

        _key = (byte[])key.Clone();
    }

    /// <summary>A keyed pseudonym of <paramref name="value"/> for identifier kind <paramref name="kind"/>.</summary>
    public string Hash(string kind, string value)
    {
        ArgumentNullException.ThrowIfNull(kind);
        ArgumentNullException.ThrowIfNull(value);
        var input = Encoding.UTF8.GetBytes(kind + ":" + Normalize(kind, value));
        Span<byte> mac = stackalloc byte[32];

        // One keyed HMAC per thread: setting the key up is most of the cost of a one-shot HMAC.
        var hmac = t_hmac;
        if (hmac is null || !ReferenceEquals(t_hmacOwner, this))
        {
            hmac?.Dispose();
            hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key);
            t_hmac = hmac;
            t_hmacOwner = this;
        }

        hmac.AppendData(input);
        hmac.GetHashAndReset(mac);
        return Convert.ToHexStringLower(mac[..(HashHexLength / 2)]);
    }

    /// <summary>
    /// The customer's keys, most stable first: loyalty, app, card, email, phone, device. Personal ones are
    /// pseudonymised. The first key is the customer's primary key at the edge; a device (possibly shared, replaced or
    /// reset) is the weakest identifier, so it comes last and is primary only when it is the event's only identifier.
    /// </summary>
    public IReadOnlyList<CustomerKey> KeysOf(CustomerIds ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var keys = new List<CustomerKey>(3);
        if (ids.LoyaltyId is { } l) keys.Add(new CustomerKey(CustomerKey.Loyalty, l));
        if (ids.AppUserId is { } a) keys.Add(new CustomerKey(CustomerKey.App, a));
        if (ids.CardToken is { } c) keys.Add(new CustomerKey(CustomerKey.Card, Hash(CustomerKey.Card, c)));
        if (ids.Email is { } e) keys.Add(new CustomerKey(CustomerKey.Email, Hash(CustomerKey.Email, e)));
        if (ids.Phone is { } p) keys.Add(new CustomerKey(CustomerKey.Phone, Hash(CustomerKey.Phone, p)));
        if (ids.DeviceId is { } d) keys.Add(new CustomerKey(CustomerKey.Device, d));
        return keys;
    }

    /// <summary>
    /// Accepts a key as a client may type it: a personal kind given in the clear (an address, a number, a token)
    /// is pseudonymised; a value that already is a pseudonym is kept.
    /// </summary>
    public CustomerKey Canonical(CustomerKey key)
    {
        var personal = key.Kind is CustomerKey.Email or CustomerKey.Phone or CustomerKey.Card;
        return personal && !IsPseudonym(key.Value) ? new CustomerKey(key.Kind, Hash(key.Kind, key.Value)) : key;
    }

    /// <summary>True when <paramref name="value"/> has the shape of a pseudonym (32 lower-case hex chars).</summary>
    public static bool IsPseudonym(string value) =>
        value.Length == HashHexLength && value.All(ch => ch is (>= '0' and <= '9') or (>= 'a' and <= 'f'));

    private static string Normalize(string kind, string value) => kind switch
    {
        CustomerKey.Email => value.Trim().ToLowerInvariant(),
        CustomerKey.Phone => new string(value.Where(ch => char.IsAsciiDigit(ch) || ch == '+').ToArray()),
        _ => value.Trim(),
    };
}
