namespace EdgeProfile.Synthesis.Loading;

/// <summary>Distinct strings, numbered in order of first appearance, looked up by span without allocating.</summary>
internal sealed class Interner
{
    private readonly Dictionary<string, int> map = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> lookup;

    public Interner() => lookup = map.GetAlternateLookup<ReadOnlySpan<char>>();

    public List<string> Values { get; } = [];

    public int Intern(ReadOnlySpan<char> value)
    {
        if (lookup.TryGetValue(value, out var i))
        {
            return i;
        }

        var s = value.ToString();
        i = Values.Count;
        map[s] = i;
        Values.Add(s);
        return i;
    }
}
