namespace EdgeProfile.Hub.Enrollment;

/// <summary>Store ids and kinds as the hub accepts them.</summary>
internal static class StoreIds
{
    public const int MaxLength = 64;

    public const string Rule = "1-64 characters of A-Z a-z 0-9 . _ -";

    public static readonly string[] Kinds = ["store", "cdn", "partner"];

    public static bool IsValid(string? storeId) =>
        !string.IsNullOrEmpty(storeId) && storeId.Length <= MaxLength &&
        storeId.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '.' or '_' or '-');

    /// <summary>The canonical kind for <paramref name="kind"/> (default "store"), or null when unknown.</summary>
    public static string? NormalizeKind(string? kind)
    {
        if (string.IsNullOrWhiteSpace(kind))
        {
            return "store";
        }

        var lower = kind.Trim().ToLowerInvariant();
        return Array.IndexOf(Kinds, lower) >= 0 ? lower : null;
    }
}
