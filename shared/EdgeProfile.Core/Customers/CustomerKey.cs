namespace EdgeProfile.Core.Customers;

/// <summary>
/// A typed customer key (contracts.md §2): <c>loyalty:L-1002</c>, <c>app:u-77</c>, <c>email:&lt;hash&gt;</c>,
/// <c>phone:&lt;hash&gt;</c>, <c>card:&lt;hash&gt;</c> or <c>ep:&lt;id&gt;</c>, and the additive <c>device:d-9</c>.
/// </summary>
public readonly record struct CustomerKey(string Kind, string Value)
{
    /// <summary>Loyalty programme id.</summary>
    public const string Loyalty = "loyalty";

    /// <summary>App user id.</summary>
    public const string App = "app";

    /// <summary>Pseudonymised email.</summary>
    public const string Email = "email";

    /// <summary>Pseudonymised phone number.</summary>
    public const string Phone = "phone";

    /// <summary>Pseudonymised payment card token.</summary>
    public const string Card = "card";

    /// <summary>A resolved profile id.</summary>
    public const string Profile = "ep";

    /// <summary>Device id (not personal, so kept in the clear like <see cref="Loyalty"/> and <see cref="App"/>).</summary>
    public const string Device = "device";

    // Device is appended after the v1 kinds so that KindList, which error messages quote, only grows at its end.
    private static readonly string[] Kinds = [Loyalty, App, Email, Phone, Card, Profile, Device];

    /// <summary>Parses "kind:value"; fails on an unknown kind or an empty value.</summary>
    public static bool TryParse(string? text, out CustomerKey key)
    {
        key = default;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == text.Length - 1)
        {
            return false;
        }

        var kind = text[..colon];
        if (Array.IndexOf(Kinds, kind) < 0)
        {
            return false;
        }

        key = new CustomerKey(kind, text[(colon + 1)..]);
        return true;
    }

    /// <summary>The accepted kinds, for error messages.</summary>
    public static string KindList => string.Join(", ", Kinds);

    /// <inheritdoc />
    public override string ToString() => $"{Kind}:{Value}";
}
