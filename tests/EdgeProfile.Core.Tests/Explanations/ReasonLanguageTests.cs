using EdgeProfile.Core.Explanations;

namespace EdgeProfile.Core.Tests.Explanations;

public sealed class ReasonLanguageTests
{
    [Theory]
    [InlineData("en", ReasonLanguage.En)]
    [InlineData("EN", ReasonLanguage.En)]
    [InlineData("en-US", ReasonLanguage.En)]
    [InlineData("zh", ReasonLanguage.ZhCn)]
    [InlineData("zh-CN", ReasonLanguage.ZhCn)]
    [InlineData("ZH-cn", ReasonLanguage.ZhCn)]
    [InlineData("zh-Hans", ReasonLanguage.ZhCn)]
    [InlineData("zh_CN", ReasonLanguage.ZhCn)]
    [InlineData(" zh-hans ", ReasonLanguage.ZhCn)]
    public void Explicit_values_parse(string value, ReasonLanguage expected)
    {
        Assert.True(ReasonLanguages.TryParse(value, out var language));
        Assert.Equal(expected, language);
        Assert.Equal(expected, ReasonLanguages.Parse(value));
    }

    [Theory]
    [InlineData("zh-CN,zh;q=0.9,en;q=0.8", ReasonLanguage.ZhCn)]
    [InlineData("en-US,en;q=0.9,zh-CN;q=0.8", ReasonLanguage.En)]
    [InlineData("en;q=0.5, zh-CN;q=0.9", ReasonLanguage.ZhCn)]
    [InlineData("fr-FR,fr;q=0.9,zh;q=0.7,en;q=0.6", ReasonLanguage.ZhCn)]
    [InlineData("zh;q=0, en", ReasonLanguage.En)]
    [InlineData("de, en-GB;q=0.3", ReasonLanguage.En)]
    public void Accept_language_headers_pick_the_most_wanted_supported_language(string header, ReasonLanguage expected)
    {
        Assert.True(ReasonLanguages.TryParse(header, out var language));
        Assert.Equal(expected, language);
        Assert.Equal(expected, ReasonLanguages.Parse(header));
    }

    [Theory]
    [InlineData("fr")]
    [InlineData("fr-FR,de;q=0.5")]
    [InlineData("ja")]
    [InlineData("zh;q=0")]
    [InlineData("english")]
    public void Unknown_explicit_values_are_refused_and_parse_falls_back_to_english(string value)
    {
        Assert.False(ReasonLanguages.TryParse(value, out _));
        Assert.Equal(ReasonLanguage.En, ReasonLanguages.Parse(value));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("*")]
    public void No_preference_is_english(string? value)
    {
        Assert.True(ReasonLanguages.TryParse(value, out var language));
        Assert.Equal(ReasonLanguage.En, language);
        Assert.Equal(ReasonLanguage.En, ReasonLanguages.Parse(value));
    }

    [Fact]
    public void Codes_round_trip()
    {
        Assert.Equal("en", ReasonLanguages.Code(ReasonLanguage.En));
        Assert.Equal("zh-CN", ReasonLanguages.Code(ReasonLanguage.ZhCn));
        foreach (var language in Enum.GetValues<ReasonLanguage>())
        {
            Assert.Equal(language, ReasonLanguages.Parse(ReasonLanguages.Code(language)));
        }
    }
}
