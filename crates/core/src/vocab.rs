//! The vocabulary of the technology market (DESIGN.md section 2).
use crate::vocab_enum;

vocab_enum! {
    /// Technology field (技术领域), the classification used in technology contract statistics.
    TechField {
        ElectronicInformation = ("electronic_information", "电子信息", "Electronic information"),
        Aerospace = ("aerospace", "航空航天", "Aerospace"),
        AdvancedManufacturing = ("advanced_manufacturing", "先进制造", "Advanced manufacturing"),
        Biomedicine = ("biomedicine", "生物、医药和医疗器械", "Biology, medicine and medical devices"),
        NewMaterials = ("new_materials", "新材料及其应用", "New materials"),
        NewEnergy = ("new_energy", "新能源与高效节能", "New energy and energy efficiency"),
        Environment = ("environment", "环境保护与资源综合利用", "Environmental protection and resource use"),
        Nuclear = ("nuclear", "核应用技术", "Nuclear applications"),
        Agriculture = ("agriculture", "农业", "Agriculture"),
        ModernTransport = ("modern_transport", "现代交通", "Modern transport"),
        UrbanSocial = ("urban_social", "城市建设与社会发展", "Urban construction and social development"),
    }
}

vocab_enum! {
    /// Technology contract kind (技术合同类别), Civil Code chapter 20.
    ContractKind {
        Development = ("development", "技术开发", "Technology development"),
        Transfer = ("transfer", "技术转让", "Technology transfer"),
        License = ("license", "技术许可", "Technology licence"),
        Consulting = ("consulting", "技术咨询", "Technology consulting"),
        Service = ("service", "技术服务", "Technology service"),
    }
}

vocab_enum! {
    /// Contract sub-kind; each belongs to exactly one [`ContractKind`].
    ContractSubKind {
        EntrustedDevelopment = ("entrusted_development", "委托开发", "Entrusted development"),
        CooperativeDevelopment = ("cooperative_development", "合作开发", "Cooperative development"),
        PatentRightTransfer = ("patent_right_transfer", "专利权转让", "Patent right transfer"),
        PatentApplicationRightTransfer = ("patent_application_right_transfer", "专利申请权转让", "Patent application right transfer"),
        TechnicalSecretTransfer = ("technical_secret_transfer", "技术秘密转让", "Technical secret transfer"),
        OtherRightsTransfer = ("other_rights_transfer", "其他技术转让", "Other rights transfer"),
        PatentLicense = ("patent_license", "专利实施许可", "Patent licence"),
        TechnicalSecretLicense = ("technical_secret_license", "技术秘密使用许可", "Technical secret licence"),
        OtherLicense = ("other_license", "其他技术许可", "Other licence"),
        Consulting = ("consulting", "技术咨询", "Consulting"),
        GeneralService = ("general_service", "技术服务", "Technical service"),
        Training = ("training", "技术培训", "Technical training"),
        Intermediary = ("intermediary", "技术中介", "Technical intermediary"),
    }
}

impl ContractSubKind {
    /// The kind a sub-kind belongs to.
    pub fn kind(&self) -> ContractKind {
        use ContractSubKind::*;
        match self {
            EntrustedDevelopment | CooperativeDevelopment => ContractKind::Development,
            PatentRightTransfer
            | PatentApplicationRightTransfer
            | TechnicalSecretTransfer
            | OtherRightsTransfer => ContractKind::Transfer,
            PatentLicense | TechnicalSecretLicense | OtherLicense => ContractKind::License,
            Consulting => ContractKind::Consulting,
            GeneralService | Training | Intermediary => ContractKind::Service,
        }
    }
}

vocab_enum! {
    /// Entity kind of a contract party, as statistics break turnover down.
    EntityKind {
        Enterprise = ("enterprise", "企业", "Enterprise"),
        University = ("university", "高等院校", "University"),
        ResearchInstitute = ("research_institute", "科研机构", "Research institute"),
        Hospital = ("hospital", "医疗卫生机构", "Hospital"),
        Individual = ("individual", "自然人", "Individual"),
        Other = ("other", "其他", "Other"),
    }
}

vocab_enum! {
    /// Transfer or cooperation mode (转化方式).
    TransferMode {
        Transfer = ("transfer", "转让", "Transfer"),
        License = ("license", "许可", "Licence"),
        Equity = ("equity", "作价投资", "Equity investment"),
        CoDevelopment = ("co_development", "合作开发", "Co-development"),
        Service = ("service", "技术服务", "Technical service"),
    }
}

vocab_enum! {
    /// Kind of intellectual property.
    IpKind {
        InventionPatent = ("invention_patent", "发明专利", "Invention patent"),
        UtilityModel = ("utility_model", "实用新型专利", "Utility model patent"),
        Design = ("design", "外观设计专利", "Design patent"),
        Software = ("software", "计算机软件著作权", "Software copyright"),
        IcLayout = ("ic_layout", "集成电路布图设计", "IC layout design"),
        PlantVariety = ("plant_variety", "植物新品种", "New plant variety"),
        TechnicalSecret = ("technical_secret", "技术秘密", "Technical secret"),
        Other = ("other", "其他", "Other"),
    }
}

vocab_enum! {
    /// Kind of organisation on TTX.
    OrgKind {
        University = ("university", "高校", "University"),
        ResearchInstitute = ("research_institute", "科研院所", "Research institute"),
        Enterprise = ("enterprise", "企业", "Enterprise"),
        Agency = ("agency", "技术转移机构", "Technology-transfer agency"),
        Station = ("station", "技术合同登记机构", "Contract registration station"),
        Bureau = ("bureau", "科技管理部门", "Science and technology bureau"),
        Operator = ("operator", "平台运营方", "Platform operator"),
    }
}

impl OrgKind {
    /// Organisations of these kinds act only after an operator verified them.
    pub fn requires_verification(&self) -> bool {
        matches!(self, OrgKind::Agency | OrgKind::Station | OrgKind::Bureau)
    }

    /// Kinds a member of the public may sign up as (operators are created by the `admin` CLI).
    pub fn can_sign_up(&self) -> bool {
        !matches!(self, OrgKind::Operator)
    }

    /// The entity kind statistics use for a party of this organisation kind.
    pub fn entity_kind(&self) -> EntityKind {
        match self {
            OrgKind::University => EntityKind::University,
            OrgKind::ResearchInstitute => EntityKind::ResearchInstitute,
            OrgKind::Enterprise | OrgKind::Agency => EntityKind::Enterprise,
            OrgKind::Station | OrgKind::Bureau | OrgKind::Operator => EntityKind::Other,
        }
    }
}

vocab_enum! {
    /// A user's role inside its organisation.
    Role {
        OrgAdmin = ("org_admin", "机构管理员", "Organisation admin"),
        Member = ("member", "成员", "Member"),
        Broker = ("broker", "技术经纪人", "Technology broker"),
        StationReviewer = ("station_reviewer", "登记审核员", "Station reviewer"),
        BureauAnalyst = ("bureau_analyst", "统计分析员", "Bureau analyst"),
        Operator = ("operator", "运营人员", "Operator"),
    }
}

impl Role {
    /// Whether a user of an organisation of `kind` may hold this role.
    pub fn allowed_in(&self, kind: OrgKind) -> bool {
        match self {
            Role::OrgAdmin | Role::Member => true,
            Role::Broker => kind == OrgKind::Agency,
            Role::StationReviewer => kind == OrgKind::Station,
            Role::BureauAnalyst => kind == OrgKind::Bureau,
            Role::Operator => kind == OrgKind::Operator,
        }
    }
}

/// Technology readiness level, 1 to 9, with the Chinese stage names commonly used.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, utoipa::ToSchema,
)]
#[schema(value_type = u8)]
pub struct Trl(u8);

impl Trl {
    pub fn new(level: u8) -> Result<Self, crate::validate::FieldError> {
        if (1..=9).contains(&level) {
            Ok(Trl(level))
        } else {
            Err(crate::validate::FieldError::new(
                "trl",
                "out_of_range",
                "TRL must be between 1 and 9",
            ))
        }
    }
    pub fn level(&self) -> u8 {
        self.0
    }
    /// The stage name used in China: 实验室 / 小试 / 中试 / 小批量 / 产业化.
    pub fn stage_zh(&self) -> &'static str {
        match self.0 {
            1..=3 => "实验室",
            4 => "小试",
            5..=6 => "中试",
            7..=8 => "小批量",
            _ => "产业化",
        }
    }
    pub fn stage_en(&self) -> &'static str {
        match self.0 {
            1..=3 => "laboratory",
            4 => "small-scale trial",
            5..=6 => "pilot",
            7..=8 => "small-batch production",
            _ => "industrialisation",
        }
    }
}

impl<'de> serde::Deserialize<'de> for Trl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = u8::deserialize(d)?;
        Trl::new(v).map_err(|_| serde::de::Error::custom("TRL must be between 1 and 9"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::Labelled;

    #[test]
    fn codes_round_trip_and_are_unique() {
        fn check<T: Labelled + std::fmt::Debug + PartialEq>() {
            let mut seen = std::collections::HashSet::new();
            for v in T::ALL {
                assert!(seen.insert(v.code()), "duplicate code {}", v.code());
                assert_eq!(T::from_code(v.code()), Some(*v));
                assert!(!v.zh().is_empty() && !v.en().is_empty());
            }
        }
        check::<TechField>();
        check::<ContractKind>();
        check::<ContractSubKind>();
        check::<EntityKind>();
        check::<TransferMode>();
        check::<IpKind>();
        check::<OrgKind>();
        check::<Role>();
    }

    #[test]
    fn serde_uses_codes() {
        assert_eq!(
            serde_json::to_string(&TechField::NewEnergy).unwrap(),
            "\"new_energy\""
        );
        let f: TechField = serde_json::from_str("\"biomedicine\"").unwrap();
        assert_eq!(f, TechField::Biomedicine);
        assert!(serde_json::from_str::<TechField>("\"magic\"").is_err());
        let err = "magic".parse::<TransferMode>().unwrap_err();
        assert!(err.to_string().contains("co_development"));
    }

    #[test]
    fn sub_kinds_belong_to_kinds() {
        assert_eq!(ContractSubKind::PatentLicense.kind(), ContractKind::License);
        assert_eq!(ContractSubKind::Training.kind(), ContractKind::Service);
        assert_eq!(
            ContractSubKind::CooperativeDevelopment.kind(),
            ContractKind::Development
        );
        for k in ContractKind::ALL {
            assert!(ContractSubKind::ALL.iter().any(|s| s.kind() == *k));
        }
    }

    #[test]
    fn trl_bounds_and_stages() {
        assert!(Trl::new(0).is_err());
        assert!(Trl::new(10).is_err());
        assert_eq!(Trl::new(4).unwrap().stage_zh(), "小试");
        assert_eq!(Trl::new(9).unwrap().stage_zh(), "产业化");
        assert!(serde_json::from_str::<Trl>("12").is_err());
        assert_eq!(serde_json::from_str::<Trl>("6").unwrap().level(), 6);
    }

    #[test]
    fn roles_fit_org_kinds() {
        assert!(Role::Broker.allowed_in(OrgKind::Agency));
        assert!(!Role::Broker.allowed_in(OrgKind::Enterprise));
        assert!(Role::StationReviewer.allowed_in(OrgKind::Station));
        assert!(!Role::Operator.allowed_in(OrgKind::University));
        assert!(Role::OrgAdmin.allowed_in(OrgKind::Bureau));
        assert!(OrgKind::Station.requires_verification());
        assert!(!OrgKind::Enterprise.requires_verification());
    }
}
