namespace EdgeProfile.Core.Events;

/// <summary>Size limits of contracts.md §1.</summary>
public static class EventLimits
{
    /// <summary>Largest accepted message, in bytes.</summary>
    public const int MaxMessageBytes = 64 * 1024;

    /// <summary>Longest eventId, in characters.</summary>
    public const int MaxEventIdLength = 64;

    /// <summary>Longest text, in UTF-8 bytes.</summary>
    public const int MaxTextBytes = 4 * 1024;

    /// <summary>Most attributes.</summary>
    public const int MaxAttributes = 32;

    /// <summary>Longest identifier, SKU, name or category, in characters.</summary>
    public const int MaxIdentifierLength = 256;
}
