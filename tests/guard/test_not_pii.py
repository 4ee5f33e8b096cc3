"""What is not personal information: public facts, amounts, document numbers, extensions, placeholders."""

from __future__ import annotations

import pytest

from guard.detectors import detect


@pytest.mark.parametrize("text", [
    "令和8年度の当初予算は1,234億円",
    "税額は123,456円です",
    "人口は約12万3千人",
    "申請件数は12345件",
    "議案第123号の審議",
    "文書番号 総務第4567号",
    "条例第8号の改正",
    "2026年3月末時点の待機児童数",
    "前年比12.5%増",
    "問い合わせは子育て支援課（内線2351）へ",
    "電話番号は 000-0000-0000 の形式で記入",
    "マイナンバーカードの交付について",
    "住民票コードとは何ですか",
    "パスポートの申請に必要な書類",
    "口座振替の申込方法",
    "ISO14001の更新審査",
    "JIS X 8341-3:2016 への対応",
    "GPT-4oとGPT-5の違い",
    "Python 3.11 の新機能",
    "群馬県知事の年頭あいさつの要約",
    "市長の施政方針演説",
    "高崎だるまと下仁田ネギ",
    "尾瀬国立公園の入山規制",
    "草津温泉と伊香保温泉の比較",
    "嬬恋村のキャベツ出荷量",
    "徳川家康と上杉謙信",
    "野口英世の生涯",
    "ふるさと納税の返礼品に佐藤錦を追加",
    "お客様各位",
    "保護者の皆様へ",
    "ご担当者様",
    "窓口の受付時間は8時30分から17時15分まで",
    "",
    "   ",
])
def test_ordinary_municipal_prompts_have_no_findings(text):
    assert detect(text) == []
