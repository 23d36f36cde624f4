using System.Globalization;
using System.Text;
using EdgeProfile.Semantic.Text;
using Xunit.Abstractions;

namespace EdgeProfile.Semantic.Tests.Text;

public class HashedTextEmbedderTests(ITestOutputHelper output)
{
    private static readonly HashedTextEmbedder Embedder = new();

    private static float Similarity(string a, string b) => VectorAssert.Dot(Embedder.Embed(a), Embedder.Embed(b));

    [Fact]
    public void Name_and_dimensions()
    {
        Assert.Equal("hashed-384", Embedder.Name);
        Assert.Equal(384, Embedder.Dimensions);
        var small = new HashedTextEmbedder(64);
        Assert.Equal("hashed-64", small.Name);
        Assert.Equal(64, small.Embed("laptop bag").Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => new HashedTextEmbedder(1));
    }

    [Theory]
    [InlineData("", "", 0xcbf29ce484222325UL)]
    [InlineData("a", "", 0xaf63dc4c8601ec8cUL)]
    [InlineData("foobar", "", 0x85944171f73967e8UL)]
    [InlineData("foo", "bar", 0x85944171f73967e8UL)]
    public void Stable_hash_is_FNV1a_64_of_UTF8(string first, string second, ulong expected)
    {
        ulong hash = StableHash.Fnv1a64(second.AsSpan(), StableHash.Fnv1a64(first.AsSpan()));
        Assert.Equal(expected, hash);
        Assert.Equal(expected, StableHash.Fnv1a64(Encoding.UTF8.GetBytes(first + second)));
    }

    [Fact]
    public void Stable_hash_of_non_ASCII_text_hashes_its_UTF8_bytes()
    {
        foreach (var text in new[] { "婴儿推车", "café", "🎒 bag" })
        {
            Assert.Equal(StableHash.Fnv1a64(Encoding.UTF8.GetBytes(text)), StableHash.Fnv1a64(text.AsSpan()));
        }
    }

    [Fact]
    public void Deterministic_within_and_across_processes()
    {
        var a = Embedder.Embed("Laptop bag for work, 15.6 inch");
        var b = new HashedTextEmbedder().Embed(["Laptop bag for work, 15.6 inch"])[0];
        Assert.Equal(a, b);

        // Pinned values: a change of tokenisation, weighting or hashing (or a per-process hash) breaks these, and
        // with them every saved hashed embedding table.
        var pinned = new HashedTextEmbedder(16).Embed("laptop bag");
        string rounded = string.Join(' ', pinned.Select(v => v.ToString("0.0000", CultureInfo.InvariantCulture)));
        Assert.Equal(PinnedLaptopBag, rounded);
    }

    private const string PinnedLaptopBag =
        "0.2520 0.2520 0.0000 0.0000 0.2520 0.0000 0.0000 0.0000 -0.1260 -0.2520 -0.3780 -0.2520 0.6299 0.0000 0.2520 0.2520";

    [Theory]
    [InlineData("laptop bag for work")]
    [InlineData("婴儿推车 轻便")]
    [InlineData("a")]
    [InlineData("Ｕｓｂ－Ｃ cable 😀 ünïcödé")]
    public void Vectors_have_unit_length(string text) => VectorAssert.UnitLength(Embedder.Embed(text));

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\t\n")]
    [InlineData(null)]
    [InlineData("!!! --- ...")]
    public void Blank_or_wordless_text_gives_the_zero_vector(string? text)
    {
        VectorAssert.Zero(Embedder.Embed(text));
        var batch = Embedder.Embed(["laptop", text!, "bag"]);
        VectorAssert.Zero(batch[1]);
        VectorAssert.UnitLength(batch[0]);
    }

    [Fact]
    public void Shared_wording_is_closer()
    {
        float related = Similarity("laptop bag for work", "work laptop backpack");
        float unrelated = Similarity("laptop bag for work", "baby stroller");
        output.WriteLine($"laptop bag for work ~ work laptop backpack {related:F3}, ~ baby stroller {unrelated:F3}");
        Assert.True(related > unrelated + 0.2f, $"related {related}, unrelated {unrelated}");
        Assert.Equal(1f, Similarity("Laptop BAG", "laptop bag"), 5);
    }

    [Fact]
    public void Chinese_queries_match_by_characters_and_bigrams()
    {
        float related = Similarity("婴儿推车", "婴儿推车 轻便");
        float unrelated = Similarity("婴儿推车", "笔记本电脑包");
        output.WriteLine($"婴儿推车 ~ 婴儿推车 轻便 {related:F3}, ~ 笔记本电脑包 {unrelated:F3}");
        Assert.True(related > 0.5f, $"related {related}");
        Assert.True(related > unrelated + 0.3f, $"related {related}, unrelated {unrelated}");
    }

    [Fact]
    public void Tokenizer_splits_words_lowercases_and_splits_CJK_into_characters()
    {
        Assert.Equal(["usb", "c", "cable", "2m"], HashedTextEmbedder.Tokenize("USB-C Cable, 2m!"));
        Assert.Equal(["婴", "儿", "推", "车", "pro"], HashedTextEmbedder.Tokenize("婴儿推车Pro"));
        Assert.Equal(["usb", "c"], HashedTextEmbedder.Tokenize("ＵＳＢ－Ｃ"));
        Assert.Equal(["straße", "café"], HashedTextEmbedder.Tokenize("Straße Café"));
        Assert.Empty(HashedTextEmbedder.Tokenize("  ... "));
    }

    [Fact]
    public void Thread_safe()
    {
        string[] texts = ["laptop bag for work", "baby stroller", "婴儿推车 轻便", "wireless mouse"];
        var expected = Embedder.Embed(texts);
        Parallel.For(0, 8, _ =>
        {
            for (int r = 0; r < 20; r++)
            {
                var actual = Embedder.Embed(texts);
                for (int i = 0; i < texts.Length; i++)
                {
                    Assert.Equal(expected[i], actual[i]);
                }
            }
        });
    }
}
