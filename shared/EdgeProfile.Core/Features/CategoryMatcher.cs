namespace EdgeProfile.Core.Features;

/// <summary>Category paths (<c>Baby &amp; Toddler &gt; Strollers</c>): normalising, top level, prefix match.</summary>
public static class CategoryMatcher
{
    /// <summary>The path with trimmed levels joined by <c> &gt; </c>.</summary>
    public static string Normalize(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return string.Join(" > ", path.Split('>', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>The first level of the path, trimmed; null when there is none.</summary>
    public static string? TopLevel(string? path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return null;
        }

        var i = path.IndexOf('>', StringComparison.Ordinal);
        var top = (i < 0 ? path : path[..i]).Trim();
        return top.Length == 0 ? null : top;
    }

    /// <summary>Whether <paramref name="category"/> lies under <paramref name="prefix"/> (whole levels, case-insensitive); a null prefix matches all.</summary>
    public static bool Matches(string? prefix, string? category)
    {
        if (prefix is null)
        {
            return true;
        }

        if (category is null)
        {
            return false;
        }

        var want = prefix.Split('>', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var have = category.Split('>', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (want.Length > have.Length)
        {
            return false;
        }

        for (var i = 0; i < want.Length; i++)
        {
            if (!string.Equals(want[i], have[i], StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return true;
    }
}
