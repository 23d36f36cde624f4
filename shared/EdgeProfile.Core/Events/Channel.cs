namespace EdgeProfile.Core.Events;

/// <summary>Where an event was produced.</summary>
public enum Channel
{
    Pos,
    App,
    Web,
    Cdn,
    Crm,
    Kiosk,
    Partner,
}
